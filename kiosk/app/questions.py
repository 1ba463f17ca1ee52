"""The words of the one-question-at-a-time forms (no Kivy here: the message check in
kiosk/app/messages.py reads them without opening a window)."""

from __future__ import annotations

# a new customer's steps → (the question, the field's label, the keyboard it types with)
NEW_CUSTOMER = {
    "last_name": ("What is your last name?", "Last name", "name"),
    "first_name": ("And your first name?", "First name (optional)", "name"),
    "phone": ("Your mobile number, to send you a text when it is ready", "Mobile phone", "phone"),
    "email": ("Your email address", "Email", "email"),
    "contact_preference": ("How shall we tell you it is ready?", "", ""),
}
# what the domain refuses (DropOffError's field), in words for the customer, and the
# step that mends it
REFUSALS = {
    "last_name": ("last_name", "Please type your last name."),
    "phone": ("phone", "That does not look like a phone number: it needs 6 to 15 digits."),
    "email": ("email", "That does not look like an email address (name@example.com)."),
    "phone_or_email": (
        "email",
        "Please give a phone number or an email so we can tell you when it is ready.",
    ),
    "contact_preference": ("phone", "To be told by SMS, please give your mobile number."),
}
UNSURE = "Please check what you typed."
# how a customer says who they are → (the question, an example)
IDENTIFY = {
    "phone": ("Your phone number", "e.g. 06 12 34 56 78"),
    "email": ("Your email address", "e.g. name@example.fr"),
    "code": ("Your account number", "e.g. K1-000042"),
}


def messages() -> set[str]:
    found = {UNSURE}
    for question, label, _kind in NEW_CUSTOMER.values():
        found |= {question, label}
    found |= {words for _step, words in REFUSALS.values()}
    for question, example in IDENTIFY.values():
        found |= {question, example}
    return found
