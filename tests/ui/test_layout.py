"""Issue 12 §3: no text that does not fit, nothing drawn outside its box, no touch
target under 9 mm, on every screen, in both languages, at 800×480, 1024×600,
1920×1080 and portrait 600×1024, at the 7-inch panel's 133 dpi (tours/layout.py).

The check found, before the layouts were mended: the top bar pushed off the claim,
verify and identify screens at 800×480, statement lines 7.8 mm high, "Se déconnecter"
and "Rembourser" broken mid-word, hints wider than their fields in portrait."""

from __future__ import annotations

import pytest

from tests.ui.conftest import WALK_SIZES, WHOLE_SCREEN

pytestmark = pytest.mark.xdist_group(WHOLE_SCREEN)

CUSTOMER = {"attract", "home", "claim", "verify", "bill", "progress", "collected",
            "identify", "statement", "customer", "item", "work", "terms", "dropped",
            "status", "message"}  # fmt: skip
STAFF = {"staff_pin", "staff_menu", "staff_lockers", "staff_shift", "staff_search",
         "staff_scan", "staff_sync", "staff_payments", "staff_devices"}  # fmt: skip


@pytest.mark.parametrize("size", WALK_SIZES)
def test_every_screen_fits_at(size, walks):
    notes = walks[size]["notes"]
    assert notes["dpi"] == 133
    looked = {tuple(where.rstrip(")").split(" (")) for where in notes["looked"]}
    for lang in ("fr", "en"):
        missing = {s for s in CUSTOMER | STAFF if (s, lang) not in looked} - {"attract"}
        assert not missing, f"the walk did not see {sorted(missing)} in {lang}"
    faults = [f"{fault}  [{', '.join(where)}]" for fault, where in notes["faults"].items()]
    assert not faults, "\n".join(faults)
