"""What every request passes through before its endpoint, as plain ASGI (Starlette's
`BaseHTTPMiddleware` ran each request in a task of its own and streamed the body
through memory objects: about a tenth of a request's time, measured with py-spy,
docs/sync-protocol.md "Where a request's time goes"):

- **Shedding load** (`Shed`): a worker holds at most `limit` sync requests at once; one
  more is answered at once with 503 and `Retry-After` (5 to 20 s, spread), instead of
  waiting behind the others past the kiosk's 10 s time-out. A kiosk honours it
  (kiosk/sync/worker.py). The same answer for a database that gives no connection in
  time (api.py: the pool's wait).
- **No NUL characters** (`NoNul`): text with U+0000 anywhere (path, query, JSON body)
  is refused as a 422: no record holds one, and PostgreSQL's text columns cannot store
  one. The body is read once and handed on as it came.
"""

from __future__ import annotations

import json
import random
from typing import Any
from urllib.parse import unquote

Scope = dict[str, Any]
Receive = Any
Send = Any
App = Any

RETRY_AFTER_S = (5, 20)  # spread: kiosks told to come back do not come back together


def retry_after() -> str:
    return str(random.randint(*RETRY_AFTER_S))


async def _answer(send: Send, status: int, body: dict[str, Any], headers: list[Any]) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"),
                        (b"content-length", str(len(data)).encode()), *headers],
        }
    )  # fmt: skip
    await send({"type": "http.response.body", "body": data})


class Shed:
    """At most `limit` requests of this worker in its endpoints at once."""

    def __init__(self, app: App, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.busy = 0
        self.shed = 0  # answered 503 since the start (the bench reads it in the log)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/sync/"):
            await self.app(scope, receive, send)
            return
        if self.busy >= self.limit:
            self.shed += 1
            await _answer(
                send,
                503,
                {"detail": "the back office is busy: come back after Retry-After seconds"},
                [(b"retry-after", retry_after().encode())],
            )
            return
        self.busy += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.busy -= 1


def has_nul(body: bytes) -> bool:
    """Whether the JSON body, decoded, holds U+0000 in any key or string."""
    if b"\x00" in body:
        return True
    if b"\\u0000" not in body:
        return False
    try:
        stack: list[Any] = [json.loads(body)]
    except ValueError:
        return False  # not JSON: the endpoint's own validation says so
    while stack:
        item = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class NoNul:
    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        if "\x00" in unquote(scope["path"]) or "\x00" in unquote(query):
            await self._refuse(send, "the address")
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left: nothing to serve
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if has_nul(body):
            await self._refuse(send, "the request body")
            return
        given = False

        async def replay() -> dict[str, Any]:
            nonlocal given
            if not given:
                given = True
                return {"type": "http.request", "body": body, "more_body": False}
            return dict(await receive())  # after the body: the disconnect, when it comes

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(send: Send, where: str) -> None:
        await _answer(
            send,
            422,
            {"detail": f"{where} holds a NUL character (U+0000), which no field allows"},
            [],
        )
