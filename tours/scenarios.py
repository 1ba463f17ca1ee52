"""Every scripted journey by the name `python -m tours.play NAME` knows it (the settings
each needs are in tours/play.py). The journeys themselves: tours/journeys.py (customers),
tours/staff_journeys.py (staff), tours/walk.py (every screen, for the layout check);
the shop they meet: tours/shop.py."""

from __future__ import annotations

from tours import journeys, languages, staff_journeys
from tours.shop import prepare
from tours.walk import walk, walk_de

__all__ = ["SCENARIOS", "prepare"]

SCENARIOS = {
    "walk": walk,
    "walk_de": walk_de,
    "help_call": staff_journeys.help_call,
    "staff_payments": staff_journeys.staff_payments,
    "staff_tour": staff_journeys.staff_tour,
    "staff_lockers": staff_journeys.staff_lockers,
    "staff_shift": staff_journeys.staff_shift,
    "staff_search": staff_journeys.staff_search,
    "staff_keypad_reversal": staff_journeys.staff_keypad_reversal,
    "staff_sync_devices": staff_journeys.staff_sync_devices,
    "pickup_card": journeys.pickup_card,
    "asked_while_serving": journeys.asked_while_serving,
    "pickup_declined": journeys.pickup_declined,
    "pickup_wrong_codes": journeys.pickup_wrong_codes,
    "pickup_jammed": journeys.pickup_jammed,
    "pickup_paper_out": journeys.pickup_paper_out,
    "nothing_due_and_status": journeys.nothing_due_and_status,
    "estimate": journeys.estimate,
    "statement": journeys.statement,
    "dropoff_new": journeys.dropoff_new,
    "idle": journeys.idle,
    "tour": journeys.tour,
    "transitions": journeys.transitions,
    "soak": journeys.soak,
    "three_languages": languages.three_languages,
}
