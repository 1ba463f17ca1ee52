"""`make screens`: docs/screens/ from the screenshots the UI tests took (build/).

Every screen in both languages at 1024×600 (the walk, and the failure paths of the other
scenarios) lands in docs/screens/NAME.png; the home, identify, item and bill screens at
1920×1080 and 600×1024 in docs/screens/WIDTHxHEIGHT/NAME.png; every step the person
test saw at the Raspberry Pi 7" panel's 800×480 (build/person/) in
docs/screens/800x480/STEP-LANG.png; German (tests/ui/test_german.py's walks) at 1024×600
in docs/screens/NAME-de.png and at 800×480 in docs/screens/800x480/NAME-de.png; the back
office's fleet page (tests/integration/test_fleet_page.py) as backoffice-fleet.png and an
order's status page on a phone (tests/messages/test_status_page.py) as order-page-*.png.
The arm64 check's screenshot (`make arm64-check`, not part of `make test`) is kept.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "ui-tests"
DOCS = ROOT / "docs" / "screens"
OTHER_SIZES = ("1920x1080", "600x1024")
PERSON = ROOT / "build" / "person"
AT_EVERY_SIZE = ("home-", "identify-", "item-", "bill-")


def shots(folder: Path) -> list[Path]:
    result = json.loads((folder / "result.json").read_text())
    if not result["ok"]:
        raise SystemExit(f"{folder.name} failed: run `make test` first\n{result['failure']}")
    return [folder / name for name in result["shots"]]


def name(shot: Path) -> str:
    return shot.name.split("-", 1)[1]  # "07-bill-fr.png" → "bill-fr.png"


def main() -> int:
    walk = SHOTS / "walk-1024x600"
    if not (walk / "result.json").exists():
        print("no screenshots in build/ui-tests: run `make test` (or pytest tests/ui) first")
        return 1
    kept = {shot.name: shot.read_bytes() for shot in DOCS.glob("arm64-*.png")}
    if DOCS.exists():
        shutil.rmtree(DOCS)
    DOCS.mkdir(parents=True)
    for file_name, data in kept.items():
        (DOCS / file_name).write_bytes(data)
    scenarios = sorted(p for p in SHOTS.iterdir() if (p / "result.json").exists())
    # the other scenarios first: the walk's shot of the same screen is the one kept
    for folder in [p for p in scenarios if not p.name.startswith("walk")] + [walk]:
        for shot in shots(folder):
            shutil.copy(shot, DOCS / name(shot))
    for shot in shots(SHOTS / "walk_de-1024x600"):
        if shot.name.endswith("-de.png"):  # its attract screen (three languages) aside
            shutil.copy(shot, DOCS / name(shot))
    for size in OTHER_SIZES:
        (DOCS / size).mkdir()
        for shot in shots(SHOTS / f"walk-{size}"):
            if name(shot).startswith(AT_EVERY_SIZE):
                shutil.copy(shot, DOCS / size / name(shot))
    (DOCS / "800x480").mkdir()
    for lang in ("fr", "en"):
        seen = PERSON / f"800x480-{lang}"
        result = json.loads((seen / "result.json").read_text())
        if result["stuck"] or result["faults"]:
            raise SystemExit(f"the person test failed at 800x480 ({lang}): run `make test`")
        for shot in sorted((seen / "shots").glob("*.png")):
            step = shot.stem.split("-", 1)[1]  # "12-customer-no-contact" → "customer-no-contact"
            shutil.copy(shot, DOCS / "800x480" / f"{step}-{lang}.png")
    for shot in shots(SHOTS / "walk_de-800x480"):
        if shot.name.endswith("-de.png"):
            shutil.copy(shot, DOCS / "800x480" / name(shot))
    for shot in sorted((SHOTS / "order-page").glob("order-page-*.png")):
        shutil.copy(shot, DOCS / shot.name)
    fleet = SHOTS / "fleet" / "fleet.png"  # the back office's page, in headless Chromium
    if fleet.exists():
        shutil.copy(fleet, DOCS / "backoffice-fleet.png")
    updates = ROOT / "build" / "updates"  # tests/updates/test_end_to_end.py
    if (updates / "fleet-releases.png").exists():
        shutil.copy(updates / "fleet-releases.png", DOCS / "fleet-releases.png")
    for step in ("0.2.0-held", "staff-software-update-now", "staff-software-after-rollback"):
        if (updates / f"{step}.png").exists():
            shutil.copy(updates / f"{step}.png", DOCS / "800x480" / f"update-{step}.png")
    count = sum(1 for _ in DOCS.rglob("*.png"))
    print(f"docs/screens: {count} screenshots")
    return 0


if __name__ == "__main__":
    sys.exit(main())
