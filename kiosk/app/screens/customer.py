"""A new customer's details, one question at a time.

On a 7-inch panel the keyboard takes half the screen: a form of five fields above it
showed a 45-pixel strip of them. So each step asks one thing — the question, its
field, the keyboard, Back and Continue beside the field — as airport check-in kiosks
do, and each Continue asks the domain (`check_new_customer`) about what was just
answered: a refusal is shown under the field it is about, in the session's language,
and nothing typed is lost. The last step (how to be told, offers) has no keyboard.
The drop-off's review screen comes back here, at the step to change.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import NumericProperty

from kiosk.app.main import KioskScreen
from kiosk.app.questions import NEW_CUSTOMER as QUESTIONS
from kiosk.app.questions import REFUSALS, UNSURE
from kiosk.domain.customers import ContactPreference
from kiosk.services.journeys.dropoff import (
    NEW_CUSTOMER_FIELDS,
    DropOffError,
    NewCustomer,
    check_new_customer,
)


class CustomerScreen(KioskScreen):
    step = NumericProperty(0)
    last_step = NEW_CUSTOMER_FIELDS.index("contact_preference")  # no typing there

    def refresh(self) -> None:
        self.answers = dict.fromkeys(("last_name", "first_name", "phone", "email"), "")
        self.ids.sms.state = "down"
        self.ids.email_pref.state = "normal"
        self.ids.consent.state = "normal"  # off unless the customer chooses it
        self.show(0)

    def came_back(self) -> None:
        """From the review: from the first question again, every answer kept."""
        self.show(0)

    def field_name(self, step: int | None = None) -> str:
        return NEW_CUSTOMER_FIELDS[self.step if step is None else step]

    def question(self, *_bind: Any) -> str:
        return self.app.tr(QUESTIONS[self.field_name()][0])

    def show(self, step: int, error: str = "") -> None:
        self.step = step
        ids, name = self.ids, self.field_name(step)
        ids.error.text = error
        if name == "contact_preference":
            ids.keyboard.target = None
            both = bool(self.answers["phone"] and self.answers["email"])
            ids.choose.opacity, ids.choose.disabled = (1, False) if both else (0, True)
            ids.error.text = ""
            ids.told.text = "" if both else self._told_by()
            self.app.speak_screen()
            return
        label, kind = QUESTIONS[name][1:]
        field = ids.field
        field.kind = kind
        field.words = kind == "name"
        field.label = self.app.tr(label)
        field.hint = self.app.tr(label)
        field.value = self.answers[name]
        ids.keyboard.target = None
        ids.keyboard.target = field
        self.app.speak_screen()

    def _told_by(self) -> str:
        if self.answers["email"]:
            return self.app.tr("We will email you at {email}", email=self.answers["email"])
        return self.app.tr("We will send a text to {phone}", phone=self.answers["phone"])

    def back(self) -> None:
        self._keep_typed()
        if self.step == 0:
            self.app.go("identify", keep=True)
        else:
            self.show(self.step - 1)

    def submit(self) -> None:
        self._keep_typed()
        answered = NEW_CUSTOMER_FIELDS[: self.step + 1]
        try:
            checked = check_new_customer(self._data(), answered)
        except DropOffError as refusal:
            at, words = REFUSALS.get(str(refusal), ("last_name", UNSURE))
            self.show(NEW_CUSTOMER_FIELDS.index(at), self.app.tr(words))  # and read aloud
            return
        if self.step + 1 < len(NEW_CUSTOMER_FIELDS):
            self.show(self.step + 1)
            return
        self.app.session["new_customer"] = checked
        self.app.go("review" if self.app.session.get("item") else "item")

    def _keep_typed(self) -> None:
        name = self.field_name()
        if name in self.answers:
            self.answers[name] = self.ids.field.value

    def _data(self) -> NewCustomer:
        ids = self.ids
        return NewCustomer(
            last_name=self.answers["last_name"],
            first_name=self.answers["first_name"],
            phone=self.answers["phone"],
            email=self.answers["email"],
            contact_preference=ContactPreference.SMS
            if ids.sms.state == "down"
            else ContactPreference.EMAIL,
            marketing_consent=ids.consent.state == "down",
        )
