"""Edge cases of the API's error contract found by the fuzzer, pinned down."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", [
    "/api/payouts/not-a-uuid/cancel",
    "/api/orders/12/refund",
    "/api/admin/brokers/%C2%A3/approve",
    "/api/no-such-thing",
])
def test_post_to_an_unknown_api_path_is_a_json_404_not_a_csrf_403(path):
    response = Client(enforce_csrf_checks=True).post(path, "{}", content_type="application/json",
                                                     HTTP_AUTHORIZATION="Bearer tlm_at_whatever")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_schema_documents_the_shared_error_responses():
    schema = Client().get("/api/openapi.json").json()
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "code", "details"]
    cancel = schema["paths"]["/api/orders/{order_id}/cancel"]["post"]["responses"]
    for status in ("400", "401", "403", "404", "409", "413", "422", "503"):
        assert status in cancel, status
    pending = schema["paths"]["/api/payouts/pending"]["get"]["responses"]
    assert "404" not in pending and "409" not in pending  # no path parameter, not a write
    webhook = schema["paths"]["/api/orders/webhook/stripe"]["post"]["responses"]
    assert "401" not in webhook and "400" in webhook  # no caller credential; the signature is checked


def test_malformed_json_body_is_a_json_400():
    response = Client().post("/api/admin/auth/login", "{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert set(response.json()) == {"error", "code", "details"}


@pytest.mark.postgres
def test_nul_character_in_text_input_is_a_422_and_changes_nothing_on_postgresql(stripe_sim):
    """PostgreSQL refuses NUL in text: that is bad input (422), not an outage (503) to retry."""
    from tests.security.conftest import ADMIN, build_world
    from tradeline.payouts.models import Payout, PayoutStatus

    world = build_world()
    response = Client().post(f"/api/payouts/{world.payout.pk}/process",
                             {"transaction_id": "TX\u0000-1", "notes": "wire"}, content_type="application/json",
                             **world.principals[ADMIN].wsgi)
    assert response.status_code == 422, response.content
    assert response.json()["code"] in ("INVALID_TEXT", "INVALID_INPUT_VALUE", "VALIDATION_ERROR")  # service check, or the database's
    assert Payout.objects.get(pk=world.payout.pk).status == PayoutStatus.PENDING


@pytest.mark.parametrize("error, status, code", [
    ("DataError", 422, "INVALID_INPUT_VALUE"),  # the input cannot be stored: retrying cannot help
    ("OperationalError", 503, "SERVICE_UNAVAILABLE"),  # the database is away: retry later
])
def test_database_errors_map_to_input_error_or_outage(rf, error, status, code):
    import json

    from django import db

    from config.api import api

    response = api.on_exception(rf.post("/api/anything"), getattr(db, error)("boom"))
    assert response.status_code == status
    assert json.loads(response.content) == {"error": json.loads(response.content)["error"], "code": code,
                                            "details": None}
