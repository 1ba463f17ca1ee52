"""Where the kiosk's log goes: to stderr, one line a record, which systemd hands to the
journal (`journalctl -u kiosk`). Under systemd ($JOURNAL_STREAM set) each line starts
with its syslog priority (`<4>` for a warning), so `journalctl -p warning` sorts them
and journald adds the time; elsewhere (a terminal, a test) a line carries its time.

Kivy's own console handler stays off (KIVY_NO_CONSOLELOG, kiosk/app/runner.py): its
records reach this one handler like every other library's."""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

# syslog priorities (RFC 5424) of Python's levels
PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3}


class JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        priority = PRIORITY.get(record.levelno, 2)  # CRITICAL and above: 2
        return f"<{priority}>{record.name}: {super().format(record)}"


def to_stderr(stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """One handler on the root logger, at `level`; called once, as the kiosk starts."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setLevel(level)  # Kivy lowers the root logger to DEBUG
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter("%(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.getEffectiveLevel() > level:
        root.setLevel(level)
