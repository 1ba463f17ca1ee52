from kiosk.app.main import KioskScreen


class HomeScreen(KioskScreen):
    def choose(self, journey: str) -> None:
        self.app.session = {"journey": journey}
        self.app.go({"pickup": "claim", "dropoff": "identify", "statement": "identify"}[journey])
