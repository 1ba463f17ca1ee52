"""The payment-fault matrix with real processes: the kiosk is a child process that gets
SIGKILL at every durable step and every ZVT message of each money journey, or whose
terminal cable is cut at every APDU (`pytest -m slow`; the in-process matrix in
`test_payment_faults.py` runs in `make test`).

What a real kill adds to the in-process matrix: the store is read back by another
process after the kernel dropped everything that was not on disk; the pty closes
under the terminal mid-dialogue; nothing in the dying process runs (no `finally`, no
`except BaseException`). The terminal simulator, the locker bank's file and the
reference back office live in the test process and outlive each kiosk; the invariants
(`payment_journeys.check`) are asserted against them after a new kiosk process (here:
the same wiring in the test process) has run its start-up recovery and the customer or
staff have tried again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.drivers.terminal.sim_link import Script
from tests.reliability.payment_journeys import (
    JOURNEYS,
    Journey,
    after_fault,
    check,
    fault_points,
)
from tests.reliability.payment_world import World

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _world(folder: Path, journey: Journey) -> World:
    w = World(folder)
    journey.setup(w)
    assert w.sim.wait_idle(5)  # the setup's last dialogue is counted before it is cleared
    w.sim.dialogue_lengths.clear()
    return w


def _run_child(w: World, journey: Journey, what: str, n: int) -> subprocess.CompletedProcess[str]:
    """The kiosk process runs the journey (the test's own kiosk hands the store over)."""
    w.stop_kiosk()
    args = [str(w.folder), w.port, journey.name, what, str(n)]
    done = subprocess.run(
        [sys.executable, "-m", "tests.reliability.payment_child", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    doors = w.folder / "lockers.txt"
    if doors.exists():
        w.lockers.opened += doors.read_text().split()
    return done


@pytest.mark.parametrize("journey", JOURNEYS, ids=lambda j: j.name.replace(" ", "-"))
def test_every_sigkill_reaches_one_business_outcome(tmp_path, journey):
    w = _world(tmp_path / "clean", journey)
    done = _run_child(w, journey, "none", 0)
    assert done.returncode == 0, done.stderr[-3000:]
    counts = json.loads(done.stdout.splitlines()[-1])
    assert w.sim.wait_idle(5)
    lengths = list(w.sim.dialogue_lengths)
    assert len(lengths) == journey.commands, lengths
    w.start_again()
    check(w, journey)
    w.close()
    faults = fault_points(counts, lengths)
    assert len(faults) >= 6
    for what, n, command in faults:
        w = _world(tmp_path / f"{what}-{command}-{n}", journey)
        if what == "cut":
            w.sim.push(*[Script()] * command, Script(cut_after=n))
            done = _run_child(w, journey, "none", 0)
            assert done.returncode == 0, done.stderr[-3000:]  # the kiosk stays up
        else:
            done = _run_child(w, journey, what, n)
            assert done.returncode == -signal.SIGKILL, (what, n, done.stderr[-3000:])
        report = w.start_again().startup()
        after_fault(w, journey, report, f"{what} {n} (command {command})")
        w.close()
