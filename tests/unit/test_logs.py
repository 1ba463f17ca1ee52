"""kiosk/logs.py: the kiosk's log reaches stderr, and so the journal, with the syslog
priority journald reads from a line's `<N>` prefix (sd-daemon(3))."""

from __future__ import annotations

import io
import logging

import pytest

from kiosk.logs import to_stderr


@pytest.fixture
def stream(monkeypatch: pytest.MonkeyPatch):
    out = io.StringIO()
    root = logging.getLogger()
    before = root.level
    yield out
    for handler in list(root.handlers):
        if getattr(handler, "stream", None) is out:
            root.removeHandler(handler)
    root.setLevel(before)


def test_under_systemd_each_line_carries_its_priority(stream, monkeypatch):
    monkeypatch.setenv("JOURNAL_STREAM", "8:12345")
    to_stderr(stream)
    logging.getLogger("kiosk.control").info("control: outbox from uid 1000")
    logging.getLogger("kiosk.sync").warning("back office unreachable")
    logging.getLogger("escpos").debug("capabilities")  # below INFO: not written
    assert stream.getvalue().splitlines() == [
        "<6>kiosk.control: control: outbox from uid 1000",
        "<4>kiosk.sync: back office unreachable",
    ]


def test_elsewhere_a_line_carries_its_time_and_level(stream, monkeypatch):
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    to_stderr(stream)
    logging.getLogger("kiosk.payments").error("terminal: no answer")
    (line,) = stream.getvalue().splitlines()
    assert line.endswith(" ERROR kiosk.payments: terminal: no answer"), line
    assert line[:4].isdigit()
