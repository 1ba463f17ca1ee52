"""A kiosk process for `test_payment_sigkill.py`: one money journey on a store in a
folder, its terminal on a pty the test's simulator holds, SIGKILLed by itself at the
N-th durable step (store commit) or N-th ZVT message it sends or receives.

    python -m tests.reliability.payment_child FOLDER PORT JOURNEY (none|commit|zvt) N

The doors it opens go to FOLDER/lockers.txt; with `none` it runs the journey to its end
and prints the steps it counted as one JSON line.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from kiosk.services.kiosk import KioskServices
from kiosk.storage.store import JournalStorage
from tests.reliability.payment_journeys import JOURNEYS
from tests.reliability.payment_world import Killer, LockerFile, kiosk_config, start_kiosk


class SigKiller(Killer):
    """The real thing: the process gets SIGKILL, nothing in it runs any more."""

    def step(self, what: str) -> None:
        self.counts[what] += 1
        if self.at == (what, self.counts[what]):
            os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class Process:
    kiosk: KioskServices  # what a journey needs of its world


def main() -> None:
    folder, port, journey_name, what, n = sys.argv[1:6]
    killer = SigKiller(at=None if what == "none" else (what, int(n)))
    commit = JournalStorage._commit

    def counted(self: JournalStorage, txn: object) -> None:
        before = self.seq
        commit(self, txn)  # type: ignore[arg-type]
        if self.seq != before:
            killer.step("commit")

    JournalStorage._commit = counted  # type: ignore[method-assign]
    kiosk = start_kiosk(
        kiosk_config(Path(folder)), port, killer, LockerFile(Path(folder) / "lockers.txt")
    )
    journey = next(j for j in JOURNEYS if j.name == journey_name)
    journey.run(Process(kiosk))  # type: ignore[arg-type]
    kiosk.devices.terminal.close()  # type: ignore[union-attr]
    kiosk.repos.store.close()
    print(json.dumps(killer.counts), flush=True)


if __name__ == "__main__":
    main()
