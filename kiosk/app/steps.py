"""Where a customer is in a journey: "Step 2 of 5" under the top bar.

Each journey is its steps in order; a step is the screens that stand for it (the bill
or, for work that needs the customer's approval, the estimate). A drop-off counts the
new customer's form even for a customer the shop knows, who goes from step 1 to step 3:
a total that changed half way would say the kiosk had lost count. Outcome screens
(collected, dropped, status, messages) are not steps.
"""

from __future__ import annotations

JOURNEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "pickup": (("claim",), ("verify",), ("bill", "estimate")),
    "dropoff": (("identify",), ("customer",), ("item",), ("work",), ("review",), ("terms",)),
    "statement": (("identify",), ("verify",), ("statement",)),
}


# where a customer was when they pressed "Call staff", in words for staff mode
PLACES = {
    "home": "choosing what to do",
    "claim": "typing a claim code",
    "verify": "checking their phone number",
    "bill": "looking at their bill",
    "estimate": "reading an estimate",
    "progress": "paying at the card terminal",
    "collected": "collecting their item",
    "status": "asking about their item",
    "identify": "saying who they are",
    "customer": "filling in their details",
    "item": "describing their item",
    "work": "choosing the work",
    "review": "checking their drop-off",
    "terms": "signing the terms",
    "dropped": "leaving their item",
    "statement": "paying their statement",
    "message": "reading a message",
}


def step_of(journey: str, screen: str) -> tuple[int, int] | None:
    """(step, of how many) for a screen of a journey; None off the journey's steps."""
    steps = JOURNEYS.get(journey, ())
    for number, screens in enumerate(steps, start=1):
        if screen in screens:
            return number, len(steps)
    return None
