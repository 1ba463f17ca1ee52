from kiosk.app.main import KioskScreen


class AttractScreen(KioskScreen):
    def start(self, lang: str) -> None:
        self.app.lang = lang
        self.app.reset_session()
        self.app.go("home")
