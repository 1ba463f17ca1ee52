"""Property-based tests of the back office API from its own OpenAPI description:
no generated input, valid or not, makes it fail with a 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection  # noqa: F401

from backoffice.api import create_app
from backoffice.db import make_engine, make_sessions
from backoffice.service import BackOffice

ADMIN = "admin-token"


def _app():
    import tempfile

    folder = tempfile.mkdtemp(prefix="bo-props-")
    office = BackOffice(make_sessions(make_engine(f"sqlite:///{folder}/bo.db")))
    shop = office.create_shop("Props")
    credential = office.enroll(office.enrolment_code(shop, "K1"))["credential"]
    return create_app(office, ADMIN), credential


APP, CREDENTIAL = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_on_any_input(case):
    headers = {"Authorization": f"Bearer {CREDENTIAL}", "X-Admin-Token": ADMIN}
    response = case.call(headers=headers)
    assert response.status_code < 500, (
        case.method,
        case.path,
        response.status_code,
        response.text[:300],
    )
