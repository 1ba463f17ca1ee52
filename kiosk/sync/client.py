"""The kiosk's HTTP client for the back office, and the checks on what comes back.

Every answer is checked before the kiosk believes it: a back office (or a proxy in
between) that answers garbage gets a `Transient` error naming what was wrong, nothing
is acknowledged and nothing is applied, and the round is tried again later. Errors are
sorted the one way that matters: `Transient` (network, time-out, 408, 429, 5xx,
garbage: try again, maybe after Retry-After) or `Refused` (another 4xx: this request
will never succeed as it is).
"""

from __future__ import annotations

import email.utils
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

RETRYABLE_STATUS = {408, 429}
# A single stalled read is reported by httpx itself (its per-read time-out is timeout_s);
# the total deadline catches the rest a moment later.
DEADLINE_GRACE_S = 0.5


class SyncError(Exception):
    pass


class Transient(SyncError):
    def __init__(
        self, message: str, retry_after: float | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class Refused(SyncError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class OpResult:
    op_id: str
    status: str  # applied | duplicate | rejected
    reason: str = ""


@dataclass(frozen=True)
class Change:
    seq: int
    kind: str
    key: str
    data: dict[str, Any] | None


@dataclass(frozen=True)
class ChangesPage:
    changes: list[Change]
    next_cursor: int
    more: bool
    server_time: datetime


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def _garbage(what: str) -> Transient:
    return Transient(f"the back office answered garbage: {what}")


def _server_time(body: dict[str, Any]) -> datetime:
    raw = body.get("server_time")
    if not isinstance(raw, str):
        raise _garbage("no server_time")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise _garbage(f"server_time {raw!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_push(body: Any, sent: list[str]) -> list[OpResult]:
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise _garbage("push answer without a results list")
    _server_time(body)
    results = []
    for item in body["results"]:
        if not isinstance(item, dict):
            raise _garbage(f"result {item!r}")
        op_id, status, reason = item.get("op_id"), item.get("status"), item.get("reason") or ""
        if op_id not in sent:
            raise _garbage(f"a result for an operation that was not sent: {op_id!r}")
        if status not in ("applied", "duplicate", "rejected") or not isinstance(reason, str):
            raise _garbage(f"status {status!r} for {op_id}")
        if status == "rejected" and not reason:
            reason = "rejected without a reason"
        results.append(OpResult(op_id, status, reason))
    return results


def parse_changes(body: Any, cursor: int) -> ChangesPage:
    if not isinstance(body, dict) or not isinstance(body.get("changes"), list):
        raise _garbage("changes answer without a changes list")
    server_time = _server_time(body)
    next_cursor, more = body.get("next_cursor"), body.get("more")
    if isinstance(next_cursor, bool) or not isinstance(next_cursor, int) or next_cursor < cursor:
        raise _garbage(f"next_cursor {next_cursor!r} (asked from {cursor})")
    if not isinstance(more, bool):
        raise _garbage(f"more {more!r}")
    changes = []
    last = cursor
    for item in body["changes"]:
        if not isinstance(item, dict):
            raise _garbage(f"change {item!r}")
        seq, kind, key, data = item.get("seq"), item.get("kind"), item.get("key"), item.get("data")
        if isinstance(seq, bool) or not isinstance(seq, int) or seq <= last or seq > next_cursor:
            raise _garbage(f"change sequence {seq!r} out of order")
        if (
            not isinstance(kind, str)
            or not isinstance(key, str)
            or not (data is None or isinstance(data, dict))
        ):
            raise _garbage(f"change {seq}: kind/key/data of the wrong type")
        changes.append(Change(seq, kind, key, data))
        last = seq
    return ChangesPage(changes, next_cursor, more, server_time)


def _close_when_made(worker: threading.Thread, box: dict[str, Any]) -> None:
    """An abandoned request's client, closed (which ends its stuck connection)."""
    http = box.get("http")
    if http is None:
        worker.join(60)
        http = box.get("http")
    if http is not None:
        http.close()


class BackOfficeClient:
    """The back office's sync API. Every request has a *total* deadline of `timeout_s`
    (connect, send, and the whole answer): httpx's time-outs are per read, so a server
    that drips one byte a second would otherwise hold a request for ever. The request
    runs on a helper thread; past the deadline it is abandoned (its connection closed)
    and the caller gets a Transient error."""

    def __init__(
        self,
        base_url: str,
        credential: str,
        *,
        timeout_s: float = 10.0,
        verify: bool | str = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        # a whole round's end (time.monotonic()), when its caller has one: no request
        # waits past it, whatever its own time-out
        self.deadline: float | None = None

        def new_http() -> httpx.Client:
            return httpx.Client(
                base_url=base_url.rstrip("/"),
                headers={"Authorization": f"Bearer {credential}", "User-Agent": "repair-kiosk"},
                timeout=httpx.Timeout(timeout_s),
                verify=verify,
                transport=transport,
            )

        self._new_http = new_http
        self._http: httpx.Client | None = None  # made at the first request (TLS set-up)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def _within_deadline(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        box: dict[str, Any] = {"http": self._http}

        def request() -> None:
            try:
                if box["http"] is None:  # made here: its TLS set-up counts in the deadline
                    box["http"] = self._new_http()
                box["response"] = box["http"].request(method, path, **kwargs)
            except BaseException as exc:  # handed to the caller's thread
                box["error"] = exc

        wait = self.timeout_s + DEADLINE_GRACE_S
        if self.deadline is not None:
            wait = min(wait, self.deadline - time.monotonic())
            if wait <= 0:
                raise Transient(f"{method} {path}: not sent, the round's time is up")
        worker = threading.Thread(target=request, name="sync-request", daemon=True)
        worker.start()
        worker.join(wait)
        if worker.is_alive():
            self._http = None  # the stuck connection is not reused: a new client next time
            threading.Thread(target=_close_when_made, args=(worker, box), daemon=True).start()
            raise Transient(
                f"{method} {path}: no whole answer in time (deadline {self.timeout_s:.1f} s)"
            )
        self._http = box["http"]
        if "error" in box:
            raise box["error"]
        response: httpx.Response = box["response"]
        return response

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._within_deadline(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise Transient(f"{method} {path}: no answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise Transient(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status in RETRYABLE_STATUS or status >= 500:
            raise Transient(
                f"{method} {path}: HTTP {status}",
                retry_after=retry_after(response.headers.get("Retry-After")),
                status=status,
            )
        if status >= 400:
            detail = response.text[:300]
            raise Refused(f"{method} {path}: HTTP {status}: {detail}", status)
        try:
            return response.json()
        except ValueError:
            raise _garbage(f"{method} {path}: not JSON ({response.text[:60]!r})") from None

    def push(self, client: dict[str, Any], operations: list[dict[str, Any]]) -> list[OpResult]:
        body = self._call(
            "POST", "/v1/sync/push", json={"client": client, "operations": operations}
        )
        return parse_push(body, [op["op_id"] for op in operations])

    def changes(self, cursor: int, limit: int) -> ChangesPage:
        body = self._call("GET", "/v1/sync/changes", params={"cursor": cursor, "limit": limit})
        return parse_changes(body, cursor)

    def heartbeat(self, report: dict[str, Any]) -> dict[str, Any]:
        """The back office's answer: its time (checked) and, from a back office that
        manages updates, the release this kiosk should run."""
        body = self._call("POST", "/v1/sync/heartbeat", json=report)
        _server_time(body)
        return dict(body)


def enroll(
    base_url: str, code: str, *, timeout_s: float = 10.0, verify: bool | str = True
) -> dict[str, Any]:
    """Exchange a one-time enrolment code for this kiosk's credential."""
    try:
        response = httpx.post(
            base_url.rstrip("/") + "/v1/enroll",
            json={"code": code},
            timeout=timeout_s,
            verify=verify,
        )
    except httpx.HTTPError as exc:
        raise Transient(f"cannot reach the back office at {base_url}: {exc}") from exc
    if response.status_code != 200:
        raise Refused(
            f"enrolment refused: HTTP {response.status_code}: {response.text[:200]}",
            response.status_code,
        )
    try:
        body = response.json()
    except ValueError:
        raise _garbage("enrolment answer is not JSON") from None
    if not isinstance(body, dict) or not all(
        isinstance(body.get(k), str) for k in ("credential", "kiosk_id")
    ):
        raise _garbage("enrolment answer without a credential")
    return body
