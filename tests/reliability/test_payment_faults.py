"""Every money journey, killed at every durable step and cut at every ZVT message.

Enumerated, not sampled: a clean run of each journey counts its store commits, the ZVT
messages the kiosk sends and receives, and the APDUs of each terminal dialogue; then one
case per count. After the fault the kiosk restarts (a kill) or the cable comes back (a
cut) and recovery runs; the customer (or staff) then tries again, as they would. The
invariants are checked against ledgers the kiosk does not keep:

- the terminal simulator's money taken (it stores a transaction only once the ECR
  acknowledged its status information, PA00P015 §2.2.8) equals the card money the kiosk
  recorded, and, after a sync round, the money the reference back office holds;
- exactly once: the journey's amount is taken once (and a refund given back once);
- no intent left open or unsettled, no reservation left held at the terminal;
- no order collected without its payment; no locker opened for an unpaid order.

The same matrix with real processes and SIGKILL: `test_payment_sigkill.py` (`pytest -m slow`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.drivers.terminal.profiles import DEFAULT_PROFILE, PROFILES
from kiosk.drivers.terminal.sim_link import Script
from kiosk.storage.store import JournalStorage
from tests.reliability.payment_journeys import (
    JOURNEYS,
    Journey,
    after_fault,
    check,
    fault_points,
)
from tests.reliability.payment_world import Killed, World


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[World]]:
    """Store commits count as durable steps of whichever world is running."""
    worlds: list[World] = []
    commit = JournalStorage._commit

    def counted(self: JournalStorage, txn: object) -> None:
        before = self.seq
        commit(self, txn)  # type: ignore[arg-type]
        if self.seq != before and worlds:
            worlds[-1].killer.step("commit")

    monkeypatch.setattr(JournalStorage, "_commit", counted)
    yield worlds
    for w in worlds:
        w.close()


def _world(tmp_path: Path, name: str, worlds: list[World], journey: Journey, profile: str) -> World:
    w = World(tmp_path / name, profile)
    worlds.append(w)
    journey.setup(w)
    w.killer.counts = {"commit": 0, "zvt": 0}
    assert w.sim.wait_idle(5)  # the setup's last dialogue is counted before it is cleared
    w.sim.dialogue_lengths.clear()
    return w


def _measure(
    tmp_path: Path, worlds: list[World], journey: Journey, profile: str
) -> tuple[dict[str, int], list[int]]:
    w = _world(tmp_path, "clean", worlds, journey, profile)
    journey.run(w)
    assert w.sim.wait_idle(5)
    lengths, counts = list(w.sim.dialogue_lengths), dict(w.killer.counts)
    assert len(lengths) == journey.commands, lengths
    check(w, journey)
    return counts, lengths


# The default profile in `make test` (about 80 s); every other terminal profile under
# `pytest -m slow` (about 6 minutes for all three: print lines add a dozen fault points
# to each dialogue).
PROFILE_PARAMS = [
    p if p == DEFAULT_PROFILE else pytest.param(p, marks=pytest.mark.slow) for p in sorted(PROFILES)
]


@pytest.mark.parametrize("profile", PROFILE_PARAMS)
@pytest.mark.parametrize("journey", JOURNEYS, ids=lambda j: j.name.replace(" ", "-"))
def test_every_fault_point_reaches_one_business_outcome(tmp_path, counting, journey, profile):
    counts, lengths = _measure(tmp_path, counting, journey, profile)
    faults = fault_points(counts, lengths)
    assert len(faults) >= 6
    for what, n, command in faults:
        w = _world(tmp_path, f"{what}-{command}-{n}", counting, journey, profile)
        if what == "cut":
            w.sim.push(*[Script()] * command, Script(cut_after=n))
            journey.run(w)  # returns: the kiosk stays up and says what it knows
            assert w.sim.wait_idle(5)
            w.sim.reconnect()  # the cable is back; staff press "resolve now"
            report = w.kiosk.recovery.run()
        else:
            w.killer.at = (what, n)
            with pytest.raises(Killed):
                journey.run(w)
            report = w.restart().startup()
        after_fault(w, journey, report, f"{what} {n} (command {command})")
        w.close()
        counting.remove(w)
