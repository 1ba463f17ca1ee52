"""Telling systemd how the kiosk is (`Type=notify`, `WatchdogSec=`), without a library.

The protocol is one datagram per message to the socket named in $NOTIFY_SOCKET (a path,
or an abstract name starting with "@"): "READY=1" once the kiosk serves customers,
"WATCHDOG=1" at least every $WATCHDOG_USEC / 2, "STATUS=…" for `systemctl status`,
"STOPPING=1" on the way out. Outside systemd (no $NOTIFY_SOCKET) every call is a no-op.
It is a dozen lines of socket code, so no dependency (python-systemd needs libsystemd
headers to build; sdnotify is unmaintained) is worth it.

The watchdog is fed from the Kivy main loop (a `Clock` interval), and only while the
health checks pass: a frozen UI, a dead sync thread or a store that can no longer write
stops the pings, and systemd restarts the kiosk after WatchdogSec.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping

log = logging.getLogger("kiosk.systemd")

HealthCheck = Callable[[], str]  # "" when fine, else what is wrong


def notify(message: str, env: Mapping[str, str] | None = None) -> bool:
    """Send one notification; False when not under systemd (or the socket is gone)."""
    env = os.environ if env is None else env
    address = env.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # the abstract namespace
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
        return True
    except OSError as exc:
        log.warning("could not notify systemd (%s): %s", message.split("=")[0], exc)
        return False


def watchdog_interval_s(env: Mapping[str, str] | None = None) -> float | None:
    """How often to ping: half of WatchdogSec, or None when no watchdog is asked for
    (or it is meant for another process)."""
    env = os.environ if env is None else env
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000


class Supervisor:
    """READY once, then WATCHDOG on every tick while every health check passes."""

    def __init__(
        self, checks: list[HealthCheck] | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        self.checks = list(checks or [])
        self.env = os.environ if env is None else env
        self.problem = ""

    def ready(self, status: str = "serving customers") -> None:
        notify(f"READY=1\nSTATUS={status}", self.env)

    def failed_to_start(self, why: str) -> None:
        # no READY: systemd's start time-out fails the start and Restart= tries again
        notify(f"STATUS=out of order: {why}", self.env)

    def tick(self) -> bool:
        problems = []
        for check in self.checks:
            try:
                problem = check()
            except Exception as exc:  # a check that breaks is a problem in itself
                problem = f"{getattr(check, '__name__', 'check')} failed: {exc}"
            if problem:
                problems.append(problem)
        if problems:
            if "; ".join(problems) != self.problem:
                self.problem = "; ".join(problems)
                log.error("unhealthy, watchdog not fed: %s", self.problem)
                notify(f"STATUS=unhealthy: {self.problem}", self.env)
            return False
        if self.problem:
            self.problem = ""
            notify("STATUS=serving customers", self.env)
        notify("WATCHDOG=1", self.env)
        return True

    def stopping(self) -> None:
        notify("STOPPING=1", self.env)
