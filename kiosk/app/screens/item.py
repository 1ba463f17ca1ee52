from kivy.uix.button import Button

from kiosk.app.main import KioskScreen
from kiosk.services.dropoff import CONDITION_CHECKS

KINDS = ("Bike", "Phone", "Appliance", "Other")
# the conditions worth asking about each kind of item (no "cracked screen" for a bike)
CONDITIONS = {
    "Bike": ("scratches", "dents", "missing parts"),
    "Phone": ("scratches", "dents", "cracked screen", "water damage"),
    "Appliance": ("scratches", "dents", "missing parts", "water damage"),
    "Other": CONDITION_CHECKS,
}


class ItemScreen(KioskScreen):
    def refresh(self) -> None:
        app, ids = self.app, self.ids
        app.session["kind"] = ""
        app.session["previous_item"] = None
        for field in ("model", "serial", "condition_text"):
            ids[field].value = ""
        ids.error.text = ""
        ids.keyboard.target = None  # the keyboard folds out when the field is tapped
        self._offer(CONDITION_CHECKS)
        ids.previous.clear_widgets()
        customer = app.session.get("customer")
        items = app.services.dropoff.previous_items(customer.account_number) if customer else []
        for item in items[:3]:
            label = f"{item.name} {item.serial_number}".strip()
            button = Button(text=app.tr("Again: {item}", item=label), font_size=app.fs(18))
            button.bind(on_release=lambda _b, it=item: self.again(it))
            ids.previous.add_widget(button)
        ids.previous.height = app.fs(18) * 2.8 if items else 0

    def kind(self, kind: str) -> None:
        self.app.session["kind"] = kind
        for k in KINDS:
            self.ids[f"kind_{k}"].state = "down" if k == kind else "normal"
        self._offer(CONDITIONS[kind])

    def _offer(self, conditions: tuple[str, ...]) -> None:
        """Only the conditions that fit the item are in the row (the others unticked)."""
        if not hasattr(self, "_checks"):
            # the row's own children, in the .kv's order (that of CONDITION_CHECKS): `ids`
            # holds weak proxies only, and a check taken out of the row would be lost
            self._check_row = self.ids.check_scratches.parent
            self._checks = list(reversed(self._check_row.children))
            assert len(self._checks) == len(CONDITION_CHECKS)
        checks, row = self._checks, self._check_row
        row.clear_widgets()
        for name, check in zip(CONDITION_CHECKS, checks, strict=True):
            if name in conditions:
                row.add_widget(check)
            else:
                check.state = "normal"

    def again(self, item: object) -> None:
        self.app.session["previous_item"] = item
        self.app.go("work")

    def submit(self) -> None:
        app, ids = self.app, self.ids
        if not app.session.get("kind"):
            ids.error.text = app.tr("Please choose what you are leaving.")
            return
        app.session["item"] = {
            "item_kind": app.tr(app.session["kind"]),
            "brand_model": ids.model.value,
            "serial_number": ids.serial.value,
            "condition_checks": tuple(
                app.tr(c)
                for c in CONDITION_CHECKS
                if ids[f"check_{c.replace(' ', '_')}"].state == "down"
            ),
            "condition_text": ids.condition_text.value,
        }
        app.go("work")
