"""Issue 16 §1: no key and no close request leaves a screen. The walk (tours/walk.py)
sends Escape, F1–F12, Menu, Alt+F4, Ctrl+Q/W/C, Alt+Tab… and a close request to every
screen it visits, customer and staff (tours/keys.py): the screen stays, no settings
panel, the app keeps running. With the guards in kiosk/app/main.py removed, F1's panel
covers the screen and the walk cannot go on."""

from __future__ import annotations

import pytest

from tests.ui.conftest import WHOLE_SCREEN
from tests.ui.test_layout import CUSTOMER, STAFF

pytestmark = pytest.mark.xdist_group(WHOLE_SCREEN)


def test_no_key_and_no_close_request_leaves_a_screen(walks):
    notes = walks["1024x600"]["notes"]
    assert notes["keys_broken"] == []
    assert (CUSTOMER | STAFF) - {"attract"} <= set(notes["keys"]), sorted(notes["keys"])
    assert all(len(sent) == 22 for sent in notes["keys"].values())
