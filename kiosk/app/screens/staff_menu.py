from kiosk.app.main import KioskScreen


class StaffMenuScreen(KioskScreen):
    """The tasks; those the member's role does not allow are greyed out."""
