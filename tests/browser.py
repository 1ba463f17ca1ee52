"""A page looked at in headless Chromium, as a person's browser draws it: the back
office's fleet page, an order's status page on a phone."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def screenshot(url: str, shot: Path, size: tuple[int, int]) -> Path:
    """`url` drawn at `size` CSS pixels (device scale 1) into `shot`."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("headless Chromium is needed: `make install` installs Debian's chromium")
    shot.parent.mkdir(parents=True, exist_ok=True)
    shot.unlink(missing_ok=True)
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--disable-background-networking", "--disable-component-update", "--no-first-run",
         "--disable-sync", f"--user-data-dir={shot.parent / 'profile'}",
         f"--window-size={size[0]},{size[1]}", "--force-device-scale-factor=1",
         f"--screenshot={shot}", url],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert shot.exists(), done.stderr[-2000:]
    return shot
