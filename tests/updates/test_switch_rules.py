"""When a downloaded release may be switched to (kiosk/updates/manager.py): each rule
alone holds the switch back, and with all of them met it goes; what "healthy" means."""

from __future__ import annotations

from dataclasses import replace
from datetime import time
from pathlib import Path

import pytest

from kiosk.updates import launcher
from kiosk.updates.fetch import ReleaseFetcher
from kiosk.updates.manager import Moment, UpdateManager, healthy, parse_hours, within

QUIET = Moment(on_attract=True, busy=False, open_payments=0, unsynced_critical=0,
               local_time=time(22, 30))  # fmt: skip


@pytest.fixture
def manager(tmp_path: Path, monkeypatch) -> UpdateManager:
    monkeypatch.setenv("KIOSK_RELEASE", "1.0.0")
    made = UpdateManager(
        tmp_path / "updates",
        tmp_path / "releases",
        ReleaseFetcher("http://127.0.0.1:9", tmp_path / "m", tmp_path / "d", tmp_path / "root"),
        opening_hours=parse_hours(["09:00-12:30", "14:00-19:00"]),
        deadline_s=300,
        store_dir=tmp_path,
    )
    made.downloaded = "1.1.0"
    return made


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"on_attract": False}, "a customer or staff is using the kiosk"),
        ({"busy": True}, "a customer or staff is using the kiosk"),
        ({"open_payments": 1}, "1 payment(s) not finished"),
        ({"unsynced_critical": 2}, "2 operation(s) the back office does not have yet"),
        ({"local_time": time(10, 0)}, "the shop is open"),
        ({"local_time": time(18, 59)}, "the shop is open"),
    ],
)
def test_each_rule_holds_the_switch_back(manager: UpdateManager, change, why) -> None:
    assert manager.why_not_now(QUIET) == ""
    assert manager.why_not_now(replace(QUIET, **change)) == why


def test_staff_may_switch_while_the_shop_is_open_but_not_over_a_customer(manager) -> None:
    assert manager.why_not_now(replace(QUIET, local_time=time(10), staff_asked=True)) == ""
    busy = replace(QUIET, local_time=time(10), staff_asked=True, open_payments=1)
    assert manager.why_not_now(busy) == "1 payment(s) not finished"


def test_nothing_downloaded_or_still_confirming(manager: UpdateManager) -> None:
    manager.dir.mkdir(parents=True)
    launcher.write_json(manager.dir / launcher.STATE, {"pending": {"version": "1.0.0"}})
    assert manager.why_not_now(QUIET) == "this release is still being confirmed"
    manager.downloaded = ""
    assert manager.why_not_now(QUIET) == "nothing downloaded"


def test_opening_hours_over_midnight() -> None:
    night = parse_hours(["22:00-02:00"])
    assert within(night, time(23, 0)) and within(night, time(1, 59))
    assert not within(night, time(2, 0)) and not within(night, time(21, 59))
    assert not within([], time(12, 0))  # no hours given: never open


def test_healthy_means_every_device_answered_none_broken_and_a_sync_round() -> None:
    before = {"printer": True, "terminal": True, "lockers": False}
    ok = {"printer": "ready: ok", "terminal": "ready: ok", "lockers": "fault: board 2"}
    assert healthy(before, ok, True) == ""
    assert healthy(before, ok, False) == "no sync round yet"
    silent = {**ok, "terminal": "unknown: not checked yet"}
    assert healthy(before, silent, True) == "no answer yet from terminal"
    broken = {**ok, "printer": "fault: cover open"}
    assert healthy(before, broken, True) == "printer worked before the switch and does not now"
