"""The sync requests' SQL (service.py), each statement made once with its values bound
at each use: SQLAlchemy then builds and keys it once rather than at every request
(about a tenth of a millisecond a statement, measured on PostgreSQL). batch.py keeps
its own the same way."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam, select, update

from backoffice.db import AppliedOperation, Entity, Kiosk, Shop

PULLED_KINDS = ("customer", "order", "invoice", "catalogue", "setting")

_KIOSKS = cast(Table, Kiosk.__table__)
_K = _KIOSKS.c
_A = AppliedOperation.__table__.c
_E = Entity.__table__.c
_S = Shop.__table__.c

# (shop id, kiosk id) of a credential's digest
CREDENTIAL = select(_K.shop_id, _K.kiosk_id).where(_K.credential_hash == bindparam("b_hashed"))

# a kiosk's report and when it was seen
HEARTBEAT = (
    update(_KIOSKS)
    .where(_K.shop_id == bindparam("b_shop"), _K.kiosk_id == bindparam("b_kiosk"))
    .values(heartbeat=bindparam("b_report"), last_seen=bindparam("b_now"))
)

# what a shop answered before to these operation ids
APPLIED_BEFORE = select(_A.op_id, _A.payload_hash, _A.status, _A.reason).where(
    _A.shop_id == bindparam("b_shop"), _A.op_id.in_(bindparam("b_ids", expanding=True))
)

# a page of the records a kiosk pulls, changed after a cursor, and the shop's change
# counter beside them (one row of nulls and the counter when none changed)
CHANGES = (
    select(_S.seq.label("shop_seq"), _E.seq, _E.kind, _E.key, _E.data)
    .select_from(
        Shop.__table__.outerjoin(
            Entity.__table__,
            (_E.shop_id == _S.id) & (_E.seq > bindparam("b_cursor")) & _E.kind.in_(PULLED_KINDS),
        )
    )
    .where(_S.id == bindparam("b_shop"))
    .order_by(_E.seq)
    .limit(bindparam("b_limit"))
)
