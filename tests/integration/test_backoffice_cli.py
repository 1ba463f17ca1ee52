"""The back office's staff CLI, as a shop would use it from a shell."""

from backoffice.__main__ import main


def test_staff_commands_end_to_end(tmp_path, capsys):
    db = ["--db", f"sqlite:///{tmp_path / 'bo.db'}"]
    assert main([*db, "seed", "--demo", "--customers", "50"]) == 0
    out = capsys.readouterr().out
    assert "customers       50" in out and "enrolment_code" in out
    assert main([*db, "customer-add", "--shop", "1", "--account", "C-9", "--last-name", "Moreau",
                 "--phone", "06 55 44 33 22", "--sms"]) == 0  # fmt: skip
    assert main([*db, "order-add", "--shop", "1", "--number", "O-9", "--customer", "C-9",
                 "--item", "Téléphone", "--line", "screen:Écran:129.00"]) == 0  # fmt: skip
    for state in ("in_progress", "done"):
        assert main([*db, "order-state", "--shop", "1", "O-9", state]) == 0
    assert main([*db, "order-location", "--shop", "1", "O-9", "locker 3"]) == 0
    assert main([*db, "invoice-add", "--shop", "1", "--order", "O-9", "--number", "F-9"]) == 0
    assert main([*db, "credit-limit", "--shop", "1", "C-9", "250"]) == 0
    assert main([*db, "notifications", "--shop", "1"]) == 0
    out = capsys.readouterr().out
    assert "invoice F-9: 129.00 EUR due" in out and "C-9: limit 250.00 EUR" in out
    assert "sms    C-9          Order O-9 is ready for pickup" in out
    assert main([*db, "order-state", "--shop", "1", "O-9", "new"]) == 1
    assert "cannot go from done to new" in capsys.readouterr().err
