"""The kiosk's screens, one module each with a .kv of the same name beside it, loaded the
first time each is shown (KioskApp.screen)."""

# name → (module, class); each module has a .kv of the same name beside it
SCREENS = {
    "attract": "attract.AttractScreen",
    "home": "home.HomeScreen",
    "claim": "claim.ClaimScreen",
    "verify": "verify.VerifyScreen",
    "status": "status.StatusScreen",
    "estimate": "estimate.EstimateScreen",
    "bill": "bill.BillScreen",
    "progress": "progress.ProgressScreen",
    "collected": "collected.CollectedScreen",
    "message": "message.MessageScreen",
    "identify": "identify.IdentifyScreen",
    "statement": "statement.StatementScreen",
    "customer": "customer.CustomerScreen",
    "item": "item.ItemScreen",
    "work": "work.WorkScreen",
    "review": "review.ReviewScreen",
    "terms": "terms.TermsScreen",
    "dropped": "dropped.DroppedScreen",
    "staff_pin": "staff_pin.StaffPinScreen",
    "staff_menu": "staff_menu.StaffMenuScreen",
    "staff_lockers": "staff_lockers.StaffLockersScreen",
    "staff_scan": "staff_scan.StaffScanScreen",
    "staff_shift": "staff_shift.StaffShiftScreen",
    "staff_search": "staff_search.StaffSearchScreen",
    "staff_sync": "staff_sync.StaffSyncScreen",
    "staff_devices": "staff_devices.StaffDevicesScreen",
    "staff_payments": "staff_payments.StaffPaymentsScreen",
}
