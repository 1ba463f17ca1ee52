"""What stands between the network and the back office's secrets (issue 16 §3).

- `Attempts`: wrong enrolment codes and wrong staff tokens are counted per source (the
  client's address) in the database, so every server process sees the same count. After
  `limit` failures within `window`, further attempts from that source are refused with
  429 and `Retry-After` *before* the code or token is looked at, until the window has
  moved past them. Every failure and every refusal is logged with its source.
- `StaffToken`: the staff token read from its file, again whenever the file changes, so
  `python -m backoffice rotate-staff-token` takes effect in running servers at once.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from backoffice.db import FailedAttempt

log = logging.getLogger("backoffice.guard")


class Attempts:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        limit: int = 10,
        window: timedelta = timedelta(minutes=1),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sessions = sessions
        self.limit = limit
        self.window = window
        self.clock = clock

    def wait_s(self, kind: str, source: str) -> float:
        """0 when `source` may try; else the seconds until its oldest counted failure
        leaves the window."""
        since = self.clock() - self.window
        with self.sessions() as s:
            count, oldest = s.execute(
                select(func.count(), func.min(FailedAttempt.at)).where(
                    FailedAttempt.kind == kind,
                    FailedAttempt.source == source,
                    FailedAttempt.at > since,
                )
            ).one()
        if count < self.limit:
            return 0.0
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
        wait = (oldest + self.window - self.clock()).total_seconds()
        log.warning("%s from %s refused unchecked: %d failures in %s", kind, source, count,
                    self.window)  # fmt: skip
        return max(wait, 1.0)

    def failed(self, kind: str, source: str) -> None:
        now = self.clock()
        log.warning("wrong %s from %s", "enrolment code" if kind == "enrol" else kind, source)
        with self.sessions.begin() as s:
            s.execute(insert(FailedAttempt), [{"kind": kind, "source": source[:64], "at": now}])
            s.execute(delete(FailedAttempt).where(FailedAttempt.at < now - 10 * self.window))


class StaffToken:
    """The staff token in its file (0600), re-read when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._token = ""

    def current(self) -> str:
        st = os.stat(self.path)
        if (st.st_mtime_ns, st.st_ino) != self._seen:
            self._token = self.path.read_text().strip()
            self._seen = (st.st_mtime_ns, st.st_ino)
        return self._token

    def matches(self, given: str | None) -> bool:
        return bool(given) and secrets.compare_digest(str(given), self.current())


class FixedToken:
    """A staff token given as a string (tests, the property test's app)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def matches(self, given: str | None) -> bool:
        return bool(given) and secrets.compare_digest(str(given), self._token)


def new_token_file(path: Path) -> str:
    """Write a new staff token into `path` (0600), replacing the old one atomically."""
    token = secrets.token_urlsafe(24)
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return token
