"""The walk (tours/walk.py) at the four window sizes of issue 12 §3, run once per test
session, the four at once (each in its own Kivy process and virtual screen)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.ui.test_screens import run_scenario

# The runs that take the whole machine for a while: the walks, the person test's
# (tests/ui/test_person.py) and the full-screen starts (tests/ui/test_fullscreen.py).
# With parallel test workers they run on one worker, one after the other, first in the
# session (tests/conftest.py), while the other workers take everything else; beside
# each other they starve (docs/testing.md).
WHOLE_SCREEN = "whole-screen"

# the 7-inch panels (800×480, 1024×600), a 1080p counter screen, a portrait kiosk
WALK_SIZES = ("1024x600", "800x480", "1920x1080", "600x1024")


@pytest.fixture(scope="session")
def walks(tmp_path_factory):
    # the folders first: pytest's temporary-folder factory is not safe across threads
    folders = {size: tmp_path_factory.mktemp(f"walk-{size}") for size in WALK_SIZES}

    def one(size: str):
        return run_scenario("walk", folders[size], size=size, timeout=600, out_name=f"walk-{size}")

    with ThreadPoolExecutor(len(WALK_SIZES)) as pool:
        return dict(zip(WALK_SIZES, pool.map(one, WALK_SIZES), strict=True))
