from __future__ import annotations

from collections.abc import Iterator

import pytest

from kiosk.drivers.terminal.link import SerialLink
from kiosk.drivers.terminal.simulator import TerminalSimulator
from kiosk.drivers.terminal.zvt import ZvtTerminal, ZvtTimeouts

FAST = ZvtTimeouts(command_ack_s=0.5, idle_s=0.8)


@pytest.fixture
def sim() -> Iterator[TerminalSimulator]:
    s = TerminalSimulator()
    s.start_pty()
    yield s
    s.stop()


@pytest.fixture
def terminal(sim: TerminalSimulator) -> Iterator[ZvtTerminal]:
    path = __import__("os").ttyname(sim._slave)
    t = ZvtTerminal(lambda: SerialLink.open(path, ack_timeout=0.3), timeouts=FAST)
    yield t
    t.close()
