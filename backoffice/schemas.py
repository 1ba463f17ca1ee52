"""The HTTP API's request and answer bodies (backoffice/api.py), as pydantic models:
what FastAPI checks each request against, and what /openapi.json describes."""

# No `from __future__ import annotations` here: pydantic and FastAPI read these
# annotations at run time.

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from backoffice.service import MAX_BATCH
from kiosk.domain.orders import OrderState

Text = Annotated[str, Field(min_length=1, max_length=200)]


class ClientInfo(BaseModel):
    device_time: datetime
    boot_id: Annotated[str, Field(max_length=64)]
    seq: Annotated[int, Field(ge=0, le=2**53)]


class Operation(BaseModel):
    op_id: Annotated[str, Field(min_length=1, max_length=64)]
    kind: Annotated[str, Field(min_length=1, max_length=40)]
    key: Annotated[str, Field(min_length=1, max_length=100)]
    payload: dict[str, Any]


class PushRequest(BaseModel):
    client: ClientInfo
    operations: Annotated[list[Operation], Field(max_length=MAX_BATCH)]


class OperationResult(BaseModel):
    op_id: str
    status: str = Field(description="applied, duplicate or rejected")
    reason: str | None = None
    code: int | None = None


class PushResponse(BaseModel):
    server_time: datetime
    results: list[OperationResult]


class Change(BaseModel):
    seq: int
    kind: str = Field(description="customer, order, invoice, catalogue or setting")
    key: str
    data: dict[str, Any] | None = Field(description="the record, or null when deleted")


class ChangesResponse(BaseModel):
    server_time: datetime
    changes: list[Change]
    next_cursor: int
    more: bool


class UpdateReport(BaseModel):
    """What a kiosk says of its releases (kiosk/updates/manager.py report())."""

    running: Annotated[str, Field(max_length=40)]
    downloaded: Annotated[str, Field(max_length=40)] = ""
    failed: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=500)]] = {}
    activity: Annotated[str, Field(max_length=20)] = ""
    error: Annotated[str, Field(max_length=1000)] = ""
    last_event: dict[str, Any] | None = None


class Heartbeat(BaseModel):
    version: Annotated[str, Field(max_length=40)]
    boot_id: Annotated[str, Field(max_length=64)] = ""
    health: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=200)]] = {}
    queue_depth: Annotated[int, Field(ge=0, le=2**53)] = 0
    oldest_pending_age_s: Annotated[float, Field(ge=0, le=1e12)] | None = None
    last_error: Annotated[str, Field(max_length=2000)] = ""
    unresolved_payments: Annotated[int, Field(ge=0, le=10_000)] = 0
    help_calls: Annotated[int, Field(ge=0, le=10_000)] = 0
    update: UpdateReport | None = None


class ServerTime(BaseModel):
    server_time: datetime


class UpdateDirective(BaseModel):
    version: str
    target: str


class HeartbeatAnswer(ServerTime):
    update: UpdateDirective | None = None  # the release to run (docs/updates.md)


class EnrolRequest(BaseModel):
    code: Annotated[str, Field(min_length=1, max_length=40)]


class EnrolResponse(BaseModel):
    kiosk_id: str
    credential: str
    shop_id: int
    shop_name: str


class ShopRequest(BaseModel):
    name: Text
    currency: Annotated[str, Field(pattern="^[A-Z]{3}$")] = "EUR"


class CodeRequest(BaseModel):
    shop_id: Annotated[int, Field(ge=1, le=2**31 - 1)]
    kiosk_id: Annotated[str, Field(pattern="^[A-Z0-9]{1,8}$")]


class StateRequest(BaseModel):
    state: OrderState
    author: Text = "backoffice"
    why: Annotated[str, Field(max_length=500)] = ""


class LocationRequest(BaseModel):
    location: Text
    author: Text = "backoffice"


class CreditLimitRequest(BaseModel):
    limit: Annotated[str, Field(pattern=r"^\d{1,9}(\.\d{1,2})?$")]
    currency: Annotated[str, Field(pattern="^[A-Z]{3}$")] = "EUR"
