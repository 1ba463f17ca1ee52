"""The launcher (kiosk/updates/launcher.py) as systemd runs it: started again whenever it
exits with a failure, killed from outside as the watchdog does. It is run as the file
provisioning copies, with `python -I` (no project on the path): it needs nothing but the
standard library.

Releases here are small programs (tests/updates/releases.py) that confirm, crash, hang
or ask for a switch; the real kiosk under the launcher is tests/updates/test_end_to_end.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.updates import launcher
from tests.updates.releases import make_release

LAUNCHER = Path(launcher.__file__)

# the factory release: asks to switch to $TO (a folder) once, then runs as "good" does
SWITCHER = """#!/bin/sh
echo "${KIOSK_RELEASE:-factory} start" >> "$RELEASE_LOG"
if [ -n "$TO" ] && [ ! -e "$KIOSK_UPDATE_DIR/asked" ]; then
  touch "$KIOSK_UPDATE_DIR/asked"
  printf '{"version": "2.0.0", "path": "%s", "deadline_s": %s, "by": "idle",
   "store": {"dir": "%s", "files": ["kiosk.snapshot", "kiosk.journal"]}}' \
    "$TO" "$DEADLINE" "$STORE" > "$KIOSK_UPDATE_DIR/switch.json"
  exit 75
fi
trap 'exit 0' TERM
while :; do sleep 0.1; done
"""

# a release that migrates the store (rewrites its snapshot) and then dies
MIGRATE_AND_CRASH = """#!/bin/sh
echo "$KIOSK_RELEASE start" >> "$RELEASE_LOG"
echo "format 3" > "$STORE/kiosk.snapshot"
echo "a journal 2.0.0 began" > "$STORE/kiosk.journal"
exit 3
"""


class Systemd:
    """Restart=always for one launcher: started again after each failed exit, until
    stopped; `kill()` is the watchdog's SIGKILL of the whole unit."""

    def __init__(self, tmp: Path, release: Path, deadline_s: float = 60.0) -> None:
        self.state = tmp / "updates"
        self.store = tmp / "store"
        self.store.mkdir()
        (self.store / "kiosk.snapshot").write_text("format 2, every order\n")
        self.log = tmp / "starts.log"
        self.log.touch()
        factory = make_release(tmp / "factory", "0.1.0", "", SWITCHER)
        self.factory = factory
        self.env = {
            **os.environ,
            "RELEASE_LOG": str(self.log),
            "TO": str(release),
            "DEADLINE": str(deadline_s),
            "STORE": str(self.store),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.exits: list[int] = []

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(LAUNCHER), "--state-dir", str(self.state),
             "--factory", str(self.factory), "--", "run", "--fullscreen"],
            env=self.env,
            start_new_session=True,
        )  # fmt: skip

    def supervise(self, until: object, timeout_s: float = 30.0) -> None:
        """Run, restarting on failure as systemd does, until `until()` holds."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if until():  # type: ignore[operator]
                return
            assert self.process is not None
            code = self.process.poll()
            if code is not None:
                self.exits.append(code)
                if code == 0:
                    raise AssertionError("the launcher stopped on its own")
                self.start()
            time.sleep(0.05)
        raise AssertionError(f"not reached in {timeout_s} s: {self.starts()}, {self.status()}")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.start()

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def starts(self) -> list[str]:
        return self.log.read_text().split("\n")[:-1]

    def status(self) -> dict[str, object]:
        return launcher.status(self.state)


@pytest.fixture
def unit(tmp_path: Path):
    made: list[Systemd] = []

    def make(kind: str, deadline_s: float = 60.0, text: str = "") -> Systemd:
        release = make_release(tmp_path / "releases" / "2.0.0", "2.0.0", kind, text)
        sd = Systemd(tmp_path, release, deadline_s)
        sd.start()
        made.append(sd)
        return sd

    yield make
    for sd in made:
        if sd.process is not None and sd.process.poll() is None:
            os.killpg(sd.process.pid, signal.SIGKILL)
            sd.process.wait()


def events(sd: Systemd) -> list[str]:
    return [e["what"] + " " + (e["version"] or "factory") for e in sd.status().get("events", [])]


def test_a_healthy_release_is_confirmed_and_stays(unit) -> None:
    sd = unit("good")
    sd.supervise(lambda: "confirmed 2.0.0" in events(sd))
    state = sd.status()
    assert state["current"]["version"] == "2.0.0"
    assert state["previous"]["version"] == ""  # the factory release
    assert state["pending"] is None and state["failed"] == {}
    assert sd.starts() == ["factory start", "2.0.0 start"]
    assert sd.stop() == 0  # SIGTERM reaches the release, the launcher leaves cleanly
    # the store's copy was taken while nothing wrote it
    copy = Path(state["current"]["store"]["copy"])
    assert (copy / "kiosk.snapshot").read_text() == "format 2, every order\n"


def test_a_release_that_migrates_then_crashes_goes_back_with_the_store(unit) -> None:
    sd = unit("crash", text=MIGRATE_AND_CRASH)
    started = time.monotonic()
    sd.supervise(lambda: "rolled back 2.0.0" in events(sd) and len(sd.starts()) >= 5)
    took = time.monotonic() - started
    state = sd.status()
    assert sd.starts() == ["factory start"] + ["2.0.0 start"] * 3 + ["factory start"]
    assert state["current"]["version"] == "" and state["pending"] is None
    assert state["failed"]["2.0.0"] == "not healthy after 3 starts (last: exit status 3)"
    assert sd.exits == [3, 3, 3]  # systemd saw three failures, then a kiosk that runs
    # the copy is back: the old release reads the store it wrote, nothing 2.0.0 began
    assert (sd.store / "kiosk.snapshot").read_text() == "format 2, every order\n"
    assert not (sd.store / "kiosk.journal").exists()
    assert took < 60, "rolled back within the deadline"


def test_a_release_never_healthy_is_stopped_at_its_deadline(unit) -> None:
    sd = unit("hang", deadline_s=2.0)
    started = time.monotonic()
    sd.supervise(lambda: "rolled back 2.0.0" in events(sd) and len(sd.starts()) >= 3)
    took = time.monotonic() - started
    assert sd.starts() == ["factory start", "2.0.0 start", "factory start"]
    assert "deadline" in sd.status()["failed"]["2.0.0"]
    assert took < 2.0 + 5.0  # the deadline, the hung release's SIGTERM, the restart
    assert sd.exits == []  # no failure for systemd to see: the launcher carried on


def test_the_watchdog_killing_the_unit_counts_as_a_failed_start(unit) -> None:
    sd = unit("hang")
    for n in (2, 3, 4):
        sd.supervise(lambda n=n: len(sd.starts()) >= n)
        sd.kill()  # what systemd does when WATCHDOG=1 stops coming
    sd.supervise(lambda: "rolled back 2.0.0" in events(sd))
    reason = sd.status()["failed"]["2.0.0"]
    assert reason == "not healthy after 3 starts (last: killed from outside (watchdog or power))"
    sd.supervise(lambda: sd.starts()[-1] == "factory start")


def test_staff_go_back_by_hand(unit) -> None:
    sd = unit("good")
    sd.supervise(lambda: "confirmed 2.0.0" in events(sd))
    launcher.write_json(sd.state / launcher.ROLLBACK, {"reason": "asked for by staff"})
    # the running kiosk leaves its loop with SWITCH_EXIT after writing the request
    os.kill(_child_of(sd.process.pid), signal.SIGUSR1)
    sd.supervise(lambda: sd.starts()[-1] == "factory start")
    assert sd.status()["failed"]["2.0.0"] == "asked for by staff"
    # without restore_store the store stays as 2.0.0 left it (no format change)
    assert (sd.store / "kiosk.snapshot").read_text() == "format 2, every order\n"


def _child_of(pid: int) -> int:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return int(found.stdout.split()[0])


def test_the_store_check_fails_when_going_back_does_not_restore(tmp_path: Path) -> None:
    """The guard shown red: a rollback that forgets the store's copy leaves the migrated
    files, which the assertion above would catch."""
    store = tmp_path / "store"
    store.mkdir()
    (store / "kiosk.snapshot").write_text("format 2\n")
    release = make_release(tmp_path / "r", "2.0.0", "crash")
    one = launcher.Launcher(tmp_path / "updates", tmp_path / "factory", [])
    one.switch({"version": "2.0.0", "path": str(release),
                "store": {"dir": str(store), "files": ["kiosk.snapshot"]}})  # fmt: skip
    (store / "kiosk.snapshot").write_text("format 3\n")
    one.roll_back("broken on purpose", restore=False)
    assert (store / "kiosk.snapshot").read_text() != "format 2\n"
    state = json.loads((tmp_path / "updates" / "state.json").read_text())
    assert state["failed"] == {"2.0.0": "broken on purpose"}
