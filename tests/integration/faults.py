"""Faults between the kiosk and a real back office, injected in the kiosk's HTTP
transport: the request really reaches the server (or really does not), and what comes
back is cut, late, garbled or doubled, as a bad shop network would have it."""

from __future__ import annotations

import random
from collections import Counter

import httpx

FAULTS = (
    "drop_before",  # connection refused / reset before the server sees anything
    "drop_after",  # the server committed; the answer is lost
    "timeout_after",  # the server committed; the answer comes after the time-out
    "error_500",  # the server fails before committing
    "busy_429",  # the server is overloaded: Retry-After
    "unavailable_503",  # a proxy in front says the service is down
    "garbage",  # the server committed; the answer is not what the protocol says
    "duplicate",  # the request is delivered twice (a retrying proxy)
)


class FaultyTransport(httpx.BaseTransport):
    def __init__(self, rate: float, seed: int, kinds: tuple[str, ...] = FAULTS) -> None:
        self.inner = httpx.HTTPTransport()
        self.rate = rate
        self.rng = random.Random(seed)
        self.kinds = kinds
        self.injected: Counter[str] = Counter()
        self.enabled = True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.enabled or self.rng.random() >= self.rate:
            return self.inner.handle_request(request)
        fault = self.rng.choice(self.kinds)
        self.injected[fault] += 1
        if fault == "drop_before":
            raise httpx.ConnectError("injected: connection refused", request=request)
        if fault == "error_500":
            return httpx.Response(500, text="injected: internal error", request=request)
        if fault == "busy_429":
            return httpx.Response(429, headers={"Retry-After": "0"}, text="busy", request=request)
        if fault == "unavailable_503":
            return httpx.Response(503, text="<html>Service Unavailable</html>", request=request)
        response = self.inner.handle_request(request)
        response.read()
        if fault == "drop_after":
            raise httpx.ReadError("injected: connection reset after the request", request=request)
        if fault == "timeout_after":
            raise httpx.ReadTimeout("injected: answer later than the time-out", request=request)
        if fault == "garbage":
            return httpx.Response(200, content=b'{"results": "\xff\xfe', request=request)
        # duplicate: deliver the same request again, answer with the second reply
        again = self.inner.handle_request(request)
        again.read()
        return again

    @property
    def total(self) -> int:
        return sum(self.injected.values())
