from kiosk.app.main import KioskScreen


class MessageScreen(KioskScreen):
    def on_kv_post(self, *_args: object) -> None:
        self.app.bind(lang=lambda *_: self.refresh())  # the message follows a language switch

    def refresh(self) -> None:
        app = self.app
        message = app.session.get("message", {})
        values = message.get("values", {})
        self.ids.title.text = app.tr(message.get("title", ""), **values)
        self.ids.body.text = app.tr(message.get("body", ""), **values)

    def next(self) -> None:
        app = self.app
        target = app.session.get("message", {}).get("next", "home")
        if target == "attract":
            app.reset_session()
        app.go(target)
