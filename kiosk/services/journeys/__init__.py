"""What a customer does at the screen: who they are (`identify.py`), leaving an item
(`dropoff.py`), collecting one and approving an estimate (`pickup.py`), paying a
statement (`statements.py`), what can be left (`item_kinds.py`) and calling staff
(`help_calls.py`). May import `services.money`; not staff mode."""
