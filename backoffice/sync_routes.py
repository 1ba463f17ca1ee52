"""The kiosk's three sync requests (push, changes, heartbeat) as plain Starlette
endpoints inside the FastAPI app.

Every kiosk sends these three each round: they are nearly all of the back office's
work. Through FastAPI's dependency and parameter machinery each cost about a tenth of
its CPU (py-spy, docs/sync-protocol.md "Where a request's time went"). Here: the
credential read from its header (a known one from memory, BackOffice.known_kiosk), the
body validated by pydantic straight from its JSON bytes, the query by a model, and the
database work in a thread pool as large as the connection pool, so that a request
waits in a queue rather than a thread waits for a connection. One that waited longer
than QUEUE_WAIT_S is answered 503 with Retry-After, as the pool's wait was: well
inside the kiosk's 10 s time-out.

Refusals are answered as FastAPI answers them: 401 and 422 with `detail` (a body or
query that does not validate: the same list of errors, located in "body" or "query").
/openapi.json describes the three as before (`describe`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backoffice.db import POOL_SIZE, digest_text, utcnow
from backoffice.schemas import (
    ChangesResponse,
    Heartbeat,
    HeartbeatAnswer,
    PushRequest,
    PushResponse,
)
from backoffice.service import BackOffice, Unauthorized
from backoffice.updates.rollout import Releases

QUEUE_WAIT_S = 3.0  # as long as the pool's wait was (db.py)
T = TypeVar("T")


class Busy(Exception):
    """A sync request waited too long for a thread: answered 503 with Retry-After."""


class ChangesQuery(BaseModel):
    cursor: Annotated[int, Field(ge=0, le=2**53)] = 0
    limit: Annotated[int, Field(ge=1, le=1000)] = 500


def _validated(model: type[Any], raw: Any, where: str) -> Any:
    try:
        if where == "body":
            return model.model_validate_json(raw)
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = [
            {**e, "loc": (where, *e["loc"]), "input": _text(e.get("input"))}
            for e in exc.errors(include_url=False)
        ]
        raise RequestValidationError(errors) from None


def _text(value: Any) -> Any:
    """An input in an error as JSON can carry it: bytes that are not JSON as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


class SyncRoutes:
    def __init__(self, office: BackOffice, releases: Releases | None) -> None:
        self.office = office
        self.releases = releases
        self.threads = ThreadPoolExecutor(POOL_SIZE, thread_name_prefix="sync")

    def routes(self) -> list[Route]:
        return [
            Route("/v1/sync/push", self.push, methods=["POST"]),
            Route("/v1/sync/changes", self.changes, methods=["GET"]),
            Route("/v1/sync/heartbeat", self.heartbeat, methods=["POST"]),
        ]

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        queued = time.monotonic()

        def when_its_turn() -> T:
            if time.monotonic() - queued > QUEUE_WAIT_S:
                raise Busy
            return fn(*args)

        return await asyncio.get_running_loop().run_in_executor(self.threads, when_its_turn)

    async def kiosk(self, request: Request) -> tuple[int, str]:
        """The calling kiosk, from `Authorization: Bearer <credential>`."""
        authorization = request.headers.get("authorization", "")
        if not authorization.startswith("Bearer "):
            raise HTTPException(401, "kiosk credential required (Authorization: Bearer …)")
        credential = authorization.removeprefix("Bearer ").strip()
        hashed = digest_text(credential)
        try:
            known = self.office.known_kiosk(credential, hashed)
            if known is not None:
                return known
            found: tuple[int, str] = await self._run(self.office.kiosk_for, credential, hashed)
            return found
        except Unauthorized as exc:
            raise HTTPException(401, str(exc)) from None

    async def push(self, request: Request) -> Response:
        shop_id, kiosk_id = await self.kiosk(request)
        body = _validated(PushRequest, await request.body(), "body")
        operations = [op.model_dump() for op in body.operations]
        results = await self._run(self.office.apply_batch, shop_id, kiosk_id, operations)
        return answer({"server_time": utcnow(), "results": [r.to_json() for r in results]})

    async def changes(self, request: Request) -> Response:
        shop_id, _ = await self.kiosk(request)
        query = _validated(ChangesQuery, dict(request.query_params), "query")
        page = await self._run(self.office.changes, shop_id, query.cursor, query.limit)
        return answer({"server_time": utcnow(), **page})

    async def heartbeat(self, request: Request) -> Response:
        shop_id, kiosk_id = await self.kiosk(request)
        body = _validated(Heartbeat, await request.body(), "body")
        known = self.releases.all() if self.releases is not None else None
        report = body.model_dump()
        update = await self._run(self.office.heartbeat, shop_id, kiosk_id, report, known)
        return answer({"server_time": utcnow(), "update": update})


def _encode(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def answer(body: dict[str, Any]) -> Response:
    """A JSON answer encoded once, compact, UTF-8 as it is: built from the back
    office's own values, not validated against its model again (every record of a
    page of changes would be); the models describe it in /openapi.json."""
    data = json.dumps(body, default=_encode, ensure_ascii=False, separators=(",", ":"))
    return Response(data.encode(), media_type="application/json")


def describe(openapi: dict[str, Any]) -> dict[str, Any]:
    """The three requests added to FastAPI's description of the rest of the API."""
    _, defs = models_json_schema(
        [(PushRequest, "validation"), (Heartbeat, "validation"), (PushResponse, "serialization"),
         (ChangesResponse, "serialization"), (HeartbeatAnswer, "serialization")],
        ref_template="#/components/schemas/{model}",
    )  # fmt: skip
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in defs["$defs"].items():
        schemas.setdefault(name, schema)
    credential = {"name": "authorization", "in": "header", "required": False,
                  "schema": {"type": "string"}, "description": "Bearer <credential>"}  # fmt: skip
    query = ChangesQuery.model_json_schema()["properties"]
    cursor_limit = [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in query.items()
    ]

    def operation(summary: str, answer: type[BaseModel], body: type[BaseModel] | None,
                  parameters: list[dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
        described: dict[str, Any] = {
            "summary": summary,
            "operationId": summary.lower(),
            "parameters": parameters,
            "responses": {
                "200": _json("Successful Response", answer.__name__),
                "401": {"description": "No kiosk credential, or an unknown one"},
                "422": _json("Validation Error", "HTTPValidationError"),
                "503": {"description": "Busy: come back after Retry-After seconds"},
            },
        }
        if body is not None:
            described["requestBody"] = {"required": True, "content": _content(body.__name__)}
        return described

    paths = openapi.setdefault("paths", {})
    paths["/v1/sync/push"] = {"post": operation("Push", PushResponse, PushRequest, [credential])}
    paths["/v1/sync/changes"] = {
        "get": operation("Changes", ChangesResponse, None, [*cursor_limit, credential])
    }
    paths["/v1/sync/heartbeat"] = {
        "post": operation("Heartbeat", HeartbeatAnswer, Heartbeat, [credential])
    }
    return openapi


def _json(description: str, model: str) -> dict[str, Any]:
    return {"description": description, "content": _content(model)}


def _content(model: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{model}"}}}
