"""A serial ticket scanner on a pseudo-terminal: `scan()` sends what a real scanner
sends (the ticket's text and CR LF), so the real SerialScanner reads it."""

from __future__ import annotations

import contextlib
import os
import pty
import tty


class ScannerSimulator:
    def __init__(self) -> None:
        self._master, self._slave = pty.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)

    def scan(self, text: str) -> None:
        os.write(self._master, text.encode("ascii", errors="replace") + b"\r\n")

    def close(self) -> None:
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
