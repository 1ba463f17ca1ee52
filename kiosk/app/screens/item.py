from kivy.factory import Factory
from kivy.metrics import mm
from kivy.uix.togglebutton import ToggleButton

from kiosk.app.icons import with_icon
from kiosk.app.main import KioskScreen
from kiosk.services.journeys.item_kinds import ItemKind


class ItemScreen(KioskScreen):
    """The kinds of item and their conditions come from the back office, labelled in the
    session's language (kiosk/services/journeys/item_kinds.py); each button's id is `kind_<code>`
    or `check_<code>`."""

    def refresh(self) -> None:
        app, ids = self.app, self.ids
        app.session["kind"] = ""
        app.session["previous_item"] = None
        for field in ("model", "serial", "condition_text"):
            ids[field].value = ""
        ids.error.text = ""
        ids.keyboard.target = None  # the keyboard folds out when the field is tapped
        self._kinds = {k.code: k for k in app.services.dropoff.item_kinds(app.lang)}
        for key in [k for k in ids if k.startswith("kind_")]:
            del ids[key]
        ids.kinds.clear_widgets()
        for kind in self._kinds.values():
            button = ToggleButton(
                text=with_icon(kind.icon, kind.label, above=True, size=app.fs(30)),
                markup=True,
                font_size=app.fs(20),
                group="kind",
                allow_no_selection=False,
            )
            button.bind(on_release=lambda _b, code=kind.code: self.kind(code))
            ids.kinds.add_widget(button)
            ids[f"kind_{kind.code}"] = button
        # before a kind is chosen, every condition any kind has, none ticked (a new item)
        for check in self._checks().values():
            check.state = "normal"
        every = {c.code: c for k in self._kinds.values() for c in k.conditions}
        self._offer(ItemKind("", "", "", tuple(every.values())))
        ids.previous.clear_widgets()
        customer = app.session.get("customer")
        items = app.services.dropoff.previous_items(customer.account_number) if customer else []
        for item in items[:3]:
            label = f"{item.name} {item.serial_number}".strip()
            button = Factory.Key(text=app.tr("Again: {item}", item=label), font_size=app.fs(18))
            button.bind(on_release=lambda _b, it=item: self.again(it))
            ids.previous.add_widget(button)
        ids.previous.height = max(mm(11), app.fs(18) * 2.8) if items else 0

    def kind(self, code: str) -> None:
        self.app.session["kind"] = code
        self._offer(self._kinds[code])

    def _offer(self, kind: ItemKind) -> None:
        """Only the conditions that fit the item (no "cracked screen" for a bike); those
        ticked already stay ticked."""
        ids = self.ids
        ticked = {code for code, check in self._checks().items() if check.state == "down"}
        for code in self._checks():
            del ids[f"check_{code}"]
        ids.checks.clear_widgets()
        for condition in kind.conditions:
            check = ToggleButton(text=condition.label, font_size=self.app.fs(18))
            check.state = "down" if condition.code in ticked else "normal"
            check.condition = condition
            ids.checks.add_widget(check)
            ids[f"check_{condition.code}"] = check

    def _checks(self) -> dict[str, ToggleButton]:
        return {
            key.removeprefix("check_"): widget
            for key, widget in self.ids.items()
            if key.startswith("check_")
        }

    def again(self, item: object) -> None:
        self.app.session["previous_item"] = item
        self.app.go("work")

    def submit(self) -> None:
        app, ids = self.app, self.ids
        code = app.session.get("kind")
        if not code:
            ids.error.text = app.tr("Please choose what you are leaving.")
            return
        checks = [w for w in reversed(ids.checks.children) if w.state == "down"]
        app.session["item"] = {  # the order keeps the words of the drop-off's language
            "item_kind": self._kinds[code].label,
            "brand_model": ids.model.value,
            "serial_number": ids.serial.value,
            "condition_checks": tuple(w.condition.label for w in checks),
            "condition_text": ids.condition_text.value,
        }
        app.go("review" if app.session.get("work") else "work")
