from kiosk.app.main import KioskScreen
from kiosk.domain.customers import ContactPreference
from kiosk.services.dropoff import NewCustomer


class CustomerScreen(KioskScreen):
    def refresh(self) -> None:
        for field in ("last_name", "first_name", "phone", "email"):
            self.ids[field].value = ""
        self.ids.sms.state = "down"
        self.ids.email_pref.state = "normal"
        self.ids.consent.state = "normal"  # off unless the customer chooses it
        self.ids.error.text = ""
        self.ids.keyboard.target = self.ids.last_name

    def submit(self) -> None:
        app, ids = self.app, self.ids
        if not ids.last_name.value.strip():
            ids.error.text = app.tr("Please type your last name.")
            return
        if not (ids.phone.value.strip() or ids.email.value.strip()):
            ids.error.text = app.tr(
                "Please give a phone number or an email so we can tell you when it is ready."
            )
            return
        app.session["new_customer"] = NewCustomer(
            last_name=ids.last_name.value,
            first_name=ids.first_name.value,
            phone=ids.phone.value,
            email=ids.email.value,
            contact_preference=ContactPreference.SMS
            if ids.sms.state == "down"
            else ContactPreference.EMAIL,
            marketing_consent=ids.consent.state == "down",
        )
        app.go("item")
