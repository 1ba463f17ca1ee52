"""The journeys a first-time customer makes, as a person makes them at the panel.

Each journey is a function `journey(person, lang)` in the person's words: tap what is
shown, type on the kiosk's keyboard, look after each step (tours/person.py). They use
the shop tours/scenarios.py seeds: the claim code of a finished repair, the account
with a statement. What each returns is what the person read, for the test to check.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from tours.person import Person, PersonStuck
from tours.shop import CODES, PHONE_LAST4

# a first-time customer: lower-case accented name, e-mail only, no phone
NEW_CUSTOMER = {"fr": ("émilie", "lefèvre", "emilie.l@exemple.fr"),
                "en": ("zoé", "o'brien", "zoe.ob@example.com")}  # fmt: skip


def start(person: Person, lang: str) -> None:
    person.wait(lambda t: t.raw["ready"] and t.screen == "attract", "the kiosk to be ready", 90)
    person.look("attract")
    person.keys(["Escape", "F1", "F4"])  # a keyboard plugged in: nothing happens
    person.tap_id(f"start_{lang}", "attract")
    person.wait_screen("home")
    person.look("home")


def dropoff(person: Person, lang: str) -> dict[str, Any]:
    start(person, lang)
    first, last, email = NEW_CUSTOMER[lang]
    person.tap_id("dropoff", "home")
    person.wait_screen("identify")
    person.look("identify-choose")
    # a customer who thinks they are known: an e-mail the shop does not have
    person.tap_id("kind_email")
    person.look("identify-email")
    person.type("nobody@nowhere.fr")
    person.tap_id("go")
    person.look("identify-unknown", error=_words(lang, "We could not find you"))
    person.tap_id("back")
    person.look("identify-choose-again")
    person.tap_id("new")
    person.wait_screen("customer")
    person.look("customer-last-name")
    person.tap_id("go")  # nothing typed
    person.look("customer-no-name", error=_words(lang, "last name"))
    person.type(last)
    person.tap_id("go")
    person.look("customer-first-name")
    person.type(first)
    person.tap_id("go")
    person.look("customer-phone")
    person.tap_id("go")  # no phone: fine, if an e-mail follows
    person.look("customer-email")
    person.tap_id("go")  # neither: refused here, at the field
    person.look("customer-no-contact", error=_words(lang, "phone number or an email"))
    person.type(email)
    person.tap_id("go")
    tree = person.look("customer-told-by")
    told = tree.one(id="told").text
    person.tap_id("go_last")
    person.wait_screen("item")
    person.look("item")
    person.tap_id("kind_bike")
    person.tap_id("go")
    person.wait_screen("work")
    person.look("work")
    tiles = [w.text.split("\n")[0] for w in person.tree().find(cls="ToggleButton")][:4]
    services = [w for w in person.tree().find(cls="ToggleButton") if "\n" in w.get("text", "")]
    person.tap(person.tree(), services[0])
    person.tap_id("go")
    person.wait_screen("review")
    tree = person.look("review")
    review = [tree.one(id=i).text for i in ("who", "what", "work")]
    person.tap_id("go")
    person.wait_screen("terms")
    person.look("terms")
    sign(person)
    person.tap_id("accept")
    tree = person.wait_screen("dropped", timeout=30)
    person.look("dropped")
    person.tap_id("done")
    return {"told": told, "review": review, "tiles": tiles}


def sign(person: Person) -> None:
    """A finger across the pad, through the X server; signed again if the pad did not
    take it (a loaded machine may merge the pointer's moves, as a hurried finger does)."""
    for _ in range(3):
        _swipe(person)
        try:
            person.wait(lambda t: any(not w.disabled for w in t.find(id="accept")),
                        "the signature to be taken", timeout=5)  # fmt: skip
            return
        except PersonStuck:
            person.tap_id("clear")
    raise PersonStuck(f"[{person.step}] the signature pad took no signature in three tries")


def _swipe(person: Person) -> None:
    from Xlib import X
    from Xlib.ext import xtest

    tree = person.tree()
    left, top, right, bottom = person.rect(tree, tree.one(id="pad").box)

    def at(x: float, y: float) -> dict[str, int]:
        return {"x": int(left + x * (right - left)), "y": int(top + y * (bottom - top))}

    points = [(0.15, 0.5), (0.3, 0.25), (0.45, 0.7), (0.6, 0.3), (0.8, 0.6)]
    xtest.fake_input(person.display, X.MotionNotify, **at(*points[0]))
    xtest.fake_input(person.display, X.ButtonPress, 1)
    person.display.sync()
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        for i in range(1, 9):  # a finger moves through the points between
            x, y = x0 + (x1 - x0) * i / 8, y0 + (y1 - y0) * i / 8
            xtest.fake_input(person.display, X.MotionNotify, **at(x, y))
            person.display.sync()
            time.sleep(0.03)
    xtest.fake_input(person.display, X.ButtonRelease, 1)
    person.display.sync()


def verify(person: Person, step: str) -> None:
    """The last four digits of the phone, on the verify screen."""
    person.wait_screen("verify")
    person.look(step)
    person.type(PHONE_LAST4)
    person.tap_id("go")


def pickup(person: Person, lang: str) -> dict[str, Any]:
    start(person, lang)
    person.tap_id("pickup", "home")
    person.wait_screen("claim")
    person.look("claim")
    person.type("ABCD")
    person.tap_id("go")
    person.look("claim-invalid", error=_words(lang, "not a claim code"))
    person.type("\b" * 4 + CODES["done"].replace("-", ""))  # Delete, then the right one
    person.tap_id("go")
    verify(person, "verify")
    tree = person.wait_screen("bill")
    person.look("bill")
    total = tree.one(id="due").text
    person.tap_id("card")
    person.wait_screen("collected", timeout=40)
    tree = person.look("collected")
    where = tree.one(id="where").text
    person.tap_id("done")
    person.wait_screen("attract")
    return {"total": total, "where": where}


def statement(person: Person, lang: str) -> dict[str, Any]:
    start(person, lang)
    person.tap_id("statement", "home")
    person.wait_screen("identify")
    person.look("statement-identify")
    person.tap_id("kind_phone")
    person.type("0612345678")
    person.tap_id("go")
    verify(person, "statement-verify")
    tree = person.wait_screen("statement")
    person.look("statement")
    summary = tree.one(id="summary").text
    explained = next((w.get("text", "") for w in tree.find(id="explain")), "")  # none: hidden
    button = tree.find(id="pay")[0]
    held = bool(button.disabled)  # more than is owed: not before the customer says so
    if held:
        person.tap_id("beyond_box")
        tree = person.look("statement-beyond-owed")
    person.tap_id("pay")
    tree = person.wait_screen("message", timeout=40)
    person.look("statement-paid")
    body = tree.one(id="body").text
    person.tap_id("ok")
    return {"summary": summary, "explained": explained, "button": button.text, "held": held,
            "body": body}  # fmt: skip


JOURNEYS = [dropoff, pickup, statement]

# the words of each expected refusal, as the session's language shows them
_REFUSALS = {
    "We could not find you": "Nous ne vous trouvons pas",
    "last name": "votre nom",
    "phone number or an email": "un téléphone ou un e-mail",
    "not a claim code": "pas un code de retrait",
}


def _words(lang: str, english: str) -> str:
    return english if lang == "en" else _REFUSALS[english]
