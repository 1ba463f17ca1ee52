"""The back office's HTTP API (version 1): the kiosk sync protocol and the staff API.

Kiosks authenticate with `Authorization: Bearer <credential>` (from enrolment); staff
with `X-Admin-Token`. A kiosk only ever sees and changes its own shop's records. The
machine-readable description is served at /openapi.json; docs/sync-protocol.md explains
it in words.
"""

# No `from __future__ import annotations` here: FastAPI reads these annotations at run time,
# including the dependency aliases defined inside create_app.

import base64
import math
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeout

from backoffice import fleet, status_page
from backoffice.asgi import NoNul, Shed, retry_after
from backoffice.db import utcnow
from backoffice.guard import Attempts, FixedToken, StaffToken
from backoffice.schemas import (
    CodeRequest,
    CreditLimitRequest,
    EnrolRequest,
    EnrolResponse,
    LocationRequest,
    ServerTime,
    ShopRequest,
    StateRequest,
)
from backoffice.service import BackOffice, Rejected, Unauthorized
from backoffice.sync_routes import Busy, SyncRoutes, describe
from backoffice.updates import rollout
from backoffice.updates.repository import Repository
from backoffice.updates.routes import routes as update_routes
from kiosk.domain.billing import Invoice
from kiosk.domain.customers import Customer
from kiosk.domain.money import Money
from kiosk.domain.orders import ServiceOrder
from kiosk.domain.plain import DecodeError, from_plain

PROTOCOL_VERSION = 1
# sync requests one worker holds at once before it sheds the next with 503 (asgi.py):
# about what it answers within the kiosk's 10 s time-out at its measured rate (some
# 200 requests a second), halved. At 40 (anyio's threads) a morning start of 2,000
# kiosks shed 9,606 requests that a short wait would have served, and 1,204 kiosks had
# not finished a round within 60 s (docs/sync-protocol.md, "Measured").
MAX_IN_FLIGHT = 1000
# Ids are PostgreSQL `integer`s (at most 2**31 - 1); sequence numbers are `bigint`.
ShopId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Key = Annotated[str, Path(min_length=1, max_length=100)]


def app_from_environment() -> FastAPI:
    """One worker process's app (`serve --workers N`): the database the parent migrated,
    the staff token from its file."""
    import os
    from pathlib import Path

    from backoffice.db import make_engine, make_sessions

    engine = make_engine(os.environ["BACKOFFICE_DB"], migrate=False)
    token = StaffToken(Path(os.environ["BACKOFFICE_ADMIN_TOKEN_FILE"]))
    folder = os.environ.get("BACKOFFICE_UPDATES", "")
    updates = Repository(Path(folder)) if folder else None
    return create_app(BackOffice(make_sessions(engine)), token, updates=updates)


def create_app(
    office: BackOffice,
    admin_token: str | StaffToken,
    attempts: Attempts | None = None,
    updates: Repository | None = None,
    max_in_flight: int = MAX_IN_FLIGHT,
) -> FastAPI:
    token = admin_token if isinstance(admin_token, StaffToken) else FixedToken(admin_token)
    guard = attempts or Attempts(office.sessions)
    releases = rollout.Releases(updates) if updates is not None else None
    app = FastAPI(
        title="Repair kiosk back office",
        version=f"{PROTOCOL_VERSION}.0",
        description="Sync protocol for self-service repair kiosks, and the staff API.",
    )

    def limited(kind: str, request: Request) -> str:
        """The request's source; 429 (unchecked) while it has guessed wrong too often."""
        source = request.client.host if request.client else "?"
        wait = guard.wait_s(kind, source)
        if wait:
            raise HTTPException(
                429,
                "too many wrong attempts from this address: wait",
                headers={"Retry-After": str(math.ceil(wait))},
            )
        return source

    def check_staff(request: Request, given: str, refusal: HTTPException) -> None:
        source = limited("staff", request)
        if not token.matches(given):
            if given:  # a wrong token is a guess; a missing one is not
                guard.failed("staff", source)
            raise refusal

    def staff(request: Request, x_admin_token: Annotated[str | None, Header()] = None) -> None:
        check_staff(
            request, x_admin_token or "", HTTPException(401, "staff token required (X-Admin-Token)")
        )

    def staff_in_browser(
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        x_admin_token: Annotated[str | None, Header()] = None,
    ) -> None:
        """A browser sends the staff token as HTTP Basic's password (any user name)."""
        given = x_admin_token or ""
        scheme, _, encoded = (authorization or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                given = base64.b64decode(encoded, validate=True).decode().partition(":")[2]
            except (ValueError, UnicodeDecodeError):
                given = ""
        challenge = {"WWW-Authenticate": 'Basic realm="back office staff", charset="UTF-8"'}
        refusal = HTTPException(401, "the staff token is the password", headers=challenge)
        check_staff(request, given, refusal)

    Staff = Annotated[None, Depends(staff)]

    @app.get("/v1/health", response_model=ServerTime)
    def health() -> dict[str, Any]:
        return {"server_time": utcnow()}

    @app.post("/v1/enroll", response_model=EnrolResponse)
    def enroll(body: EnrolRequest, request: Request) -> dict[str, Any]:
        source = limited("enrol", request)
        try:
            return office.enroll(body.code)
        except Unauthorized as exc:
            guard.failed("enrol", source)
            raise HTTPException(403, str(exc)) from None

    # The kiosk's sync requests: plain Starlette endpoints (sync_routes.py), described
    # in /openapi.json with the rest
    sync = SyncRoutes(office, releases)
    app.router.routes.extend(sync.routes())
    fastapi_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        return app.openapi_schema or describe(fastapi_openapi())

    app.openapi = openapi  # type: ignore[method-assign]

    # -- staff API ----------------------------------------------------------------------------
    @app.post("/v1/admin/shops")
    def add_shop(body: ShopRequest, _: Staff) -> dict[str, Any]:
        return {"shop_id": office.create_shop(body.name, body.currency)}

    @app.post("/v1/admin/enrolment-codes")
    def add_code(body: CodeRequest, _: Staff) -> dict[str, Any]:
        try:
            return {"code": office.enrolment_code(body.shop_id, body.kiosk_id, timedelta(days=2))}
        except Rejected as exc:
            raise HTTPException(404, str(exc)) from None

    def _decode(tp: type[Any], data: dict[str, Any]) -> Any:
        try:
            return from_plain(tp, data)
        except DecodeError as exc:
            raise HTTPException(422, str(exc)) from None

    @app.put("/v1/admin/shops/{shop_id}/customers/{account}")
    def put_customer(
        shop_id: ShopId, account: Key, body: dict[str, Any], _: Staff
    ) -> dict[str, Any]:
        customer = _decode(Customer, {**body, "account_number": account})
        office.put_customer(shop_id, customer)
        return {"account_number": customer.account_number}

    @app.put("/v1/admin/shops/{shop_id}/orders/{number}")
    def put_order(shop_id: ShopId, number: Key, body: dict[str, Any], _: Staff) -> dict[str, Any]:
        order = _decode(ServiceOrder, {**body, "number": number})
        office.put_order(shop_id, order)
        return {"number": order.number}

    @app.put("/v1/admin/shops/{shop_id}/invoices/{number}")
    def put_invoice(shop_id: ShopId, number: Key, body: dict[str, Any], _: Staff) -> dict[str, Any]:
        invoice = _decode(Invoice, {**body, "number": number})
        office.put_invoice(shop_id, invoice)
        return {"number": invoice.number}

    @app.post("/v1/admin/shops/{shop_id}/orders/{number}/state")
    def set_state(shop_id: ShopId, number: Key, body: StateRequest, _: Staff) -> dict[str, Any]:
        try:
            order = office.set_state(shop_id, number, body.state, body.author, body.why)
        except Rejected as exc:
            raise HTTPException(404, str(exc)) from None
        except ValueError as exc:  # a move the state table forbids
            raise HTTPException(409, str(exc)) from None
        return {"number": order.number, "state": order.state.value}

    @app.post("/v1/admin/shops/{shop_id}/orders/{number}/location")
    def set_location(
        shop_id: ShopId, number: Key, body: LocationRequest, _: Staff
    ) -> dict[str, Any]:
        try:
            order = office.set_location(shop_id, number, body.location, body.author)
        except Rejected as exc:
            raise HTTPException(404, str(exc)) from None
        return {"number": order.number, "location": order.location}

    @app.post("/v1/admin/shops/{shop_id}/customers/{account}/credit-limit")
    def set_limit(
        shop_id: ShopId, account: Key, body: CreditLimitRequest, _: Staff
    ) -> dict[str, Any]:
        try:
            customer = office.set_credit_limit(shop_id, account, Money(body.limit, body.currency))
        except Rejected as exc:
            raise HTTPException(404, str(exc)) from None
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        assert customer.credit is not None
        return {"account_number": account, "limit": str(customer.credit.limit.amount)}

    @app.get("/fleet/{shop_id}", response_class=HTMLResponse, include_in_schema=False)
    def fleet_page(
        shop_id: ShopId,
        _: Annotated[None, Depends(staff_in_browser)],
        days: Annotated[int, Query(ge=1, le=365)] = 7,
    ) -> HTMLResponse:
        try:
            found = fleet.report(office, shop_id, utcnow(), uncollected_days=days)
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from None
        return HTMLResponse(fleet.render(found), headers={"Cache-Control": "no-store"})

    @app.get("/v1/admin/shops/{shop_id}/notifications")
    def notifications(shop_id: ShopId, _: Staff) -> list[dict[str, Any]]:
        return office.notifications(shop_id)

    @app.post("/v1/admin/shops/{shop_id}/orders/{number}/status-link/revoke")
    def revoke_status_link(shop_id: ShopId, number: Key, _: Staff) -> dict[str, Any]:
        return {"revoked": status_page.revoke(office, shop_id, number, utcnow())}

    app.include_router(status_page.routes(office, guard))
    if updates is not None:
        app.include_router(update_routes(updates))

    app.add_middleware(NoNul)
    app.add_middleware(Shed, limit=max_in_flight)  # outermost: a shed request costs nothing

    @app.exception_handler(PoolTimeout)
    @app.exception_handler(Busy)
    def no_connection(_request: Any, _exc: Exception) -> JSONResponse:
        """No connection (or, for a sync request, no thread) within the wait: come
        back later."""
        return JSONResponse(
            {"detail": "the back office is busy: come back after Retry-After seconds"},
            status_code=503,
            headers={"Retry-After": retry_after()},
        )

    @app.exception_handler(Rejected)
    def rejected(_request: Any, exc: Rejected) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    return app
