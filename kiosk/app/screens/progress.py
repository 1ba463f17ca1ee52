from kiosk.app.main import KioskScreen


class ProgressScreen(KioskScreen):
    pass
