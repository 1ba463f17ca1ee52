"""Property-based tests of the back office API from its own OpenAPI description:
no generated input, valid or not, makes it fail with a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection  # noqa: F401

from backoffice.api import create_app
from backoffice.db import make_engine, make_sessions
from backoffice.service import BackOffice

ADMIN = "admin-token"


def _app(db_url: str | None = None):
    import tempfile

    if db_url is None:
        db_url = f"sqlite:///{tempfile.mkdtemp(prefix='bo-props-')}/bo.db"
    office = BackOffice(make_sessions(make_engine(db_url)))
    shop = office.create_shop("Props")
    credential = office.enroll(office.enrolment_code(shop, "K1"))["credential"]
    return create_app(office, ADMIN), credential


APP, CREDENTIAL = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


class _Swappable:
    """An ASGI app standing for another: the schema is read through the SQLite-backed
    app at import; the PostgreSQL-backed one takes its place once the server is up."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


ON_POSTGRES = _Swappable(APP)
postgres_schema = schemathesis.openapi.from_asgi("/openapi.json", ON_POSTGRES)


@pytest.fixture(scope="module")
def postgres_credential(pg_server):
    ON_POSTGRES.app, credential = _app(pg_server.new_database())
    yield credential
    ON_POSTGRES.app = APP


def _check(case, credential: str) -> None:
    headers = {"Authorization": f"Bearer {credential}", "X-Admin-Token": ADMIN}
    response = case.call(headers=headers)
    assert response.status_code < 500, (
        case.method,
        case.path,
        response.status_code,
        response.text[:300],
    )


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_on_any_input(case):
    _check(case, CREDENTIAL)


@pytest.mark.postgres
@postgres_schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_on_any_input_on_postgres(case, postgres_credential):
    assert ON_POSTGRES.app is not APP
    _check(case, postgres_credential)
