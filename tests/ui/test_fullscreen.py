"""Full screen is the display's size (issue 21 §1), on X11 with no window manager, as
the kiosk's unit starts it: at every panel size the kiosk is sold with, and turned for
a panel mounted the other way.

Before: `fullscreen = auto` kept the configured 1024×600 and SDL centred it on the
screen, at (−112, −60) on an 800×480 panel: the picture cropped, every tap off.
"""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.ui.conftest import WHOLE_SCREEN
from tours.person import Panel, Person
from tours.person_run import config_text, start_kiosk, stop_kiosk
from tours.xserver import XServer

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "fullscreen"
# pixels, the panel's DPI, the rotation set in kiosk.toml
CASES = {
    "800x480": (Panel("pi-7in", 800, 480, 133), 0),
    "1024x600": (Panel("7in-1024", 1024, 600, 170), 0),
    "1280x720": (Panel("hdmi-720p", 1280, 720, 96), 0),
    "1920x1080": (Panel("hdmi-1080p", 1920, 1080, 96), 0),
    "720x1280": (Panel("touch-display-2", 720, 1280, 210), 0),
    # the Pi's 7" display mounted on its side: the screen stays 800×480, the picture
    # turns, and the kiosk lays itself out for 480×800
    "800x480-rotated": (Panel("pi-7in", 800, 480, 133), 90),
}

pytestmark = [
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is installed by `make install`"),
    pytest.mark.xdist_group(WHOLE_SCREEN),
]


def started(name: str) -> dict[str, object]:
    panel, rotation = CASES[name]
    out = OUT / name
    shutil.rmtree(out, ignore_errors=True)
    probe = out / "probe"
    probe.mkdir(parents=True)
    config = out / "kiosk.toml"
    config.write_text(config_text(panel, out / "store", rotation))
    x = XServer(panel.width, panel.height)
    log = (out / "kiosk.log").open("wb")
    kiosk = start_kiosk(config, x.display, probe, log)
    try:
        person = Person(panel, probe, out, x.display)
        tree = person.wait(lambda t: t.screen == "attract", "the attract screen", 90)
        time.sleep(0.3)
        person.shot("attract")
        return {"window": person.window(), "kivy": tuple(tree.raw["window"])}
    finally:
        stop_kiosk(kiosk)
        log.close()
        x.stop()


@pytest.fixture(scope="module")
def seen():
    with ThreadPoolExecutor(3) as pool:
        return dict(zip(CASES, pool.map(started, CASES), strict=True))


@pytest.mark.parametrize("name", list(CASES))
def test_the_window_is_the_whole_screen(seen, name):
    panel, rotation = CASES[name]
    assert seen[name]["window"] == (0, 0, panel.width, panel.height)
    expected = (panel.height, panel.width) if rotation in (90, 270) else (panel.width, panel.height)
    assert seen[name]["kivy"] == expected  # what the screens lay themselves out for
