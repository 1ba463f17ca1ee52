"""A receipt printer in software: a python-escpos connection that answers status queries
as a real printer does and renders every job it receives to PNG, from the same bytes."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import socket
import threading
import tty
from collections import deque
from pathlib import Path

from escpos.escpos import Escpos

from kiosk.drivers.printer.codepages import DEFAULT_PROFILE, profile_codepages
from kiosk.drivers.printer.interpreter import EscPosInterpreter, Interpretation

KEEP_JOBS = 200


class SimulatedPrinter(Escpos):  # type: ignore[misc]
    """State a test or the demo can set: paper ("ok", "low", "out"), cover_open,
    offline, no_reply (status queries go unanswered), stuck (writes time out)."""

    def __init__(self, *, profile: str = DEFAULT_PROFILE, output_dir: Path | None = None) -> None:
        super().__init__(profile=profile)
        self.paper = "ok"
        self.cover_open = False
        self.offline = False
        self.no_reply = False
        self.stuck = False
        self.output_dir = output_dir
        # the latest jobs only: a demo kiosk left running for weeks must not grow
        self.jobs: deque[bytes] = deque(maxlen=KEEP_JOBS)
        self.jobs_printed = 0
        self.pages_written: deque[Path] = deque(maxlen=KEEP_JOBS)
        self.pages_count = 0
        self._reply = b""
        self._interpreter = EscPosInterpreter(profile_codepages(profile))

    def open(self, raise_not_found: bool = True) -> None:  # nothing to open
        pass

    def _status_byte(self, n: int) -> int:
        if n == 1:
            return 0x12 | (0x08 if (self.offline or self.cover_open or self.paper == "out") else 0)
        if n == 2:
            return 0x12 | (0x04 if self.cover_open else 0) | (0x20 if self.paper == "out" else 0)
        if n == 4:
            return 0x12 | {"ok": 0, "low": 0x0C, "out": 0x6C}[self.paper]
        return 0x12

    def _raw(self, msg: bytes) -> None:
        if msg[:2] == b"\x10\x04" and len(msg) == 3:  # real-time status request
            self._reply = b"" if self.no_reply else bytes([self._status_byte(msg[2])])
            return
        if self.stuck:
            raise TimeoutError("write timed out (printer not taking data)")
        if self.offline or self.cover_open or self.paper == "out":
            return  # a real printer holds or drops the data; nothing comes out
        self.jobs.append(bytes(msg))
        self.jobs_printed += 1
        if self.output_dir is not None:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            for page in self.render(msg).pages:
                self.pages_count += 1
                path = self.output_dir / f"print-{self.pages_count:03d}.png"
                page.image.save(path)
                self.pages_written.append(path)

    def _read(self) -> bytes:
        reply, self._reply = self._reply, b""
        return reply

    def render(self, job: bytes) -> Interpretation:
        return self._interpreter.run(job)

    def close(self) -> None:
        pass


class StreamPrinterSimulator:
    """The same printer behind a byte stream: a pseudo-terminal (for python-escpos's
    Serial) or a TCP port (for its Network). It answers DLE EOT status requests as the
    printer's state says and collects everything else as job bytes."""

    def __init__(self, printer: SimulatedPrinter | None = None) -> None:
        self.printer = printer or SimulatedPrinter()
        self.received = bytearray()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fds: list[int] = []
        self._server: socket.socket | None = None

    def start_pty(self) -> str:
        master, slave = pty.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        self._fds = [master, slave]
        self._start(lambda: master)
        return os.ttyname(slave)

    def start_tcp(self) -> int:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(5)
        port: int = self._server.getsockname()[1]

        def accept() -> int:
            assert self._server is not None
            conn, _ = self._server.accept()
            self._conn = conn
            return conn.fileno()

        self._start(accept)
        return port

    def _start(self, channel: object) -> None:
        def run() -> None:
            fd = channel()  # type: ignore[operator]
            pending = b""
            while not self._stop.is_set():
                ready, _, _ = select.select([fd], [], [], 0.05)
                if not ready:
                    continue
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    return
                if not data:
                    return
                pending += data
                while (i := pending.find(b"\x10\x04")) != -1 and len(pending) >= i + 3:
                    self._job(pending[:i])
                    self.printer._raw(pending[i : i + 3])
                    reply = self.printer._read()
                    if reply:
                        os.write(fd, reply)
                    pending = pending[i + 3 :]
                if b"\x10" not in pending[-2:]:
                    self._job(pending)
                    pending = b""

        self._thread = threading.Thread(target=run, name="printer-sim", daemon=True)
        self._thread.start()

    def _job(self, data: bytes) -> None:
        if data and not self.printer.stuck:
            self.received += data

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._server is not None:
            self._server.close()
