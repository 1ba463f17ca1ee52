from datetime import timedelta

from kivy.uix.togglebutton import ToggleButton

from kiosk.app.main import KioskScreen


class WorkScreen(KioskScreen):
    def refresh(self) -> None:
        app, ids = self.app, self.ids
        ids.described.value = ""
        ids.warranty.state = "normal"
        ids.error.text = ""
        ids.keyboard.target = None  # the keyboard folds out when the field is tapped
        ids.services.clear_widgets()
        for entry in app.services.dropoff.catalogue(app.lang):
            button = ToggleButton(
                text=f"{entry.label}\n{app.money(entry.price)}",
                font_size=app.fs(18),
                halign="center",
            )
            button.code = entry.code
            ids.services.add_widget(button)
        ids.asap.state = "down"
        today = app.services.clock().date()
        self._dates = {
            "asap": None,
            "d3": today + timedelta(days=3),
            "d7": today + timedelta(days=7),
        }
        ids.d3.text = app.date(self._dates["d3"])
        ids.d7.text = app.date(self._dates["d7"])

    def submit(self) -> None:
        app, ids = self.app, self.ids
        codes = tuple(b.code for b in ids.services.children if b.state == "down")
        if not codes and not ids.described.value.strip():
            ids.error.text = app.tr("Choose a service or describe what is wrong.")
            return
        when = next((key for key in self._dates if ids[key].state == "down"), "asap")
        app.session["work"] = {
            "services": tuple(reversed(codes)),
            "described_work": ids.described.value,
            "warranty_claim": ids.warranty.state == "down",
            "preferred_date": self._dates[when],
        }
        app.go("review")
