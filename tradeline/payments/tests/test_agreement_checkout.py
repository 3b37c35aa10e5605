"""Checkout requires the current Tradeline User Agreement and keeps the acceptance as evidence; the
Stripe Checkout Session asks for Stripe's own terms consent and its result joins the evidence."""

import hashlib
import json

import httpx
import pytest

from tradeline.agreements.models import AgreementAcceptance, AgreementVersion
from tradeline.agreements.services import agreement_publish
from tradeline.audit.models import ActivityLog
from tradeline.brokers.models import AdminRole, KeyKind
from tradeline.orders.models import Order
from tradeline.orders.tests.conftest import admin_bearer, api, broker_key, catalog, fast_test_settings  # noqa: F401
from tradeline.payments.tests import events, sim
from tradeline.testing.agreements import agreement_fields

pytestmark = pytest.mark.django_db

CART = [{"card_id": "card-chase", "quantity": 1}]


def _checkout(api, broker, **fields):
    body = {"customer_email": "ann@example.com", "customer_name": "Ann", "items": CART, **fields}
    return api.post("/api/orders/checkout", data=json.dumps(body), content_type="application/json",
                    HTTP_X_API_KEY=broker_key(broker, KeyKind.PUBLISHABLE), REMOTE_ADDR="198.51.100.23",
                    HTTP_USER_AGENT="Mozilla/5.0 (Test Phone)")


def _nothing_written():
    assert Order.objects.count() == 0
    assert AgreementAcceptance.objects.count() == 0
    assert not ActivityLog.objects.filter(action__in=("order.created", "agreement.accepted")).exists()


@pytest.mark.parametrize("fields", [
    {},
    {"agreement_version": 1},
    {"agreement_version": 1, "agreement_accepted": False},
    {"agreement_accepted": True},
    {"agreement_version": 1, "agreement_accepted": None},
])
def test_checkout_without_acceptance_is_422_agreement_required(api, catalog, broker, stripe_sim, fields):
    response = _checkout(api, broker, **fields)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "AGREEMENT_REQUIRED"
    assert response.json()["details"] == {"field": "agreement_accepted", "current_version": 1}
    _nothing_written()


def test_checkout_with_a_stale_version_is_422_agreement_outdated(api, catalog, broker, stripe_sim):
    agreement_publish(title="Tradeline User Agreement", body="Version two of the text.")
    response = _checkout(api, broker, agreement_version=1, agreement_accepted=True)
    assert response.status_code == 422
    assert response.json() == {"error": "The agreement was updated; the customer must accept the current version.",
                               "code": "AGREEMENT_OUTDATED",
                               "details": {"field": "agreement_version", "current_version": 2}}
    _nothing_written()


def test_checkout_with_an_unknown_version_is_outdated(api, catalog, broker, stripe_sim):
    response = _checkout(api, broker, agreement_version=7, agreement_accepted=True)
    assert (response.status_code, response.json()["code"]) == (422, "AGREEMENT_OUTDATED")
    _nothing_written()


def test_accepted_string_true_is_not_acceptance(api, catalog, broker, stripe_sim):
    response = _checkout(api, broker, agreement_version=1, agreement_accepted="true")
    assert response.status_code == 422
    _nothing_written()


def test_checkout_stores_the_evidence_and_asks_stripe_for_consent(api, catalog, broker, stripe_sim, settings):
    settings.PUBLIC_BASE_URL = "https://market.example.com"
    response = _checkout(api, broker, **agreement_fields())
    assert response.status_code == 201, response.content
    order = Order.objects.get()
    evidence = order.agreement_acceptance
    text = AgreementVersion.objects.get(version=1).body
    assert (evidence.version, evidence.text_sha256) == (1, hashlib.sha256(text.encode("utf-8")).hexdigest())
    assert (evidence.client_ip, evidence.user_agent, evidence.email) == (
        "198.51.100.23", "Mozilla/5.0 (Test Phone)", "ann@example.com")
    assert evidence.accepted_by is None and evidence.stripe_consent == ""
    assert evidence.accepted_at.utcoffset().total_seconds() == 0
    assert order.created_at <= evidence.accepted_at
    log = ActivityLog.objects.get(action="agreement.accepted")
    assert log.metadata["order_number"] == order.order_number and log.metadata["client_ip"] == "198.51.100.23"

    remote = stripe_sim.session(response.json()["session_id"])
    assert remote["consent_collection"]["terms_of_service"] == "required"
    assert remote["custom_text"]["terms_of_service_acceptance"] == {
        "message": "I agree to the [Tradeline User Agreement](https://market.example.com/agreement/v1)."}
    assert remote["consent"] is None


def test_stripe_consent_is_recorded_once_when_the_session_completes(client, api, catalog, broker, stripe_sim):
    response = _checkout(api, broker, **agreement_fields())
    session_id = response.json()["session_id"]
    start = len(stripe_sim.events())
    stripe_sim.pay(session_id, deliver=False)
    assert stripe_sim.session(session_id)["consent"] == {"promotions": None, "terms_of_service": "accepted"}
    sent = sim.post_all(client, stripe_sim, after=start)
    evidence = AgreementAcceptance.objects.get()
    assert (evidence.stripe_consent, evidence.stripe_session_id) == ("accepted", session_id)
    first_at = evidence.stripe_consent_at
    assert first_at is not None
    # The same event again (a new delivery id) changes nothing.
    completed = next(evt for evt in sent if evt["type"] == "checkout.session.completed")
    completed = {**completed, "id": completed["id"] + "x"}
    assert events.post(client, completed).status_code == 200
    evidence.refresh_from_db()
    assert (evidence.stripe_consent, evidence.stripe_consent_at) == ("accepted", first_at)


def test_admin_direct_sale_records_the_admin_who_accepted(api, catalog, stripe_sim):
    body = {"customer_email": "walk-in@example.com", "items": CART, "create_checkout": False, **agreement_fields()}
    response = api.post("/api/admin/orders", data=json.dumps(body), content_type="application/json",
                        HTTP_AUTHORIZATION=admin_bearer(AdminRole.STAFF), REMOTE_ADDR="192.0.2.44")
    assert response.status_code == 201, response.content
    evidence = AgreementAcceptance.objects.get()
    assert evidence.accepted_by is not None and evidence.accepted_by.is_staff
    assert (evidence.client_ip, evidence.email, evidence.version) == ("192.0.2.44", "walk-in@example.com", 1)


def test_admin_direct_sale_without_acceptance_is_refused(api, catalog, stripe_sim):
    body = {"customer_email": "walk-in@example.com", "items": CART, "create_checkout": False}
    response = api.post("/api/admin/orders", data=json.dumps(body), content_type="application/json",
                        HTTP_AUTHORIZATION=admin_bearer(AdminRole.STAFF))
    assert (response.status_code, response.json()["code"]) == (422, "AGREEMENT_REQUIRED")
    _nothing_written()


def test_local_stripe_refuses_bad_consent_params(stripe_sim, settings):
    base = {"mode": "payment", "line_items[0][price_data][currency]": "usd",
            "line_items[0][price_data][unit_amount]": "100", "line_items[0][price_data][product_data][name]": "x",
            "line_items[0][quantity]": "1", "success_url": "https://s.example/ok"}
    auth = {"Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}"}
    url = settings.STRIPE_API_BASE.rstrip("/") + "/v1/checkout/sessions"
    bad = httpx.post(url, data={**base, "consent_collection[terms_of_service]": "maybe"}, headers=auth)
    assert (bad.status_code, bad.json()["error"]["param"]) == (400, "consent_collection[terms_of_service]")
    text_only = httpx.post(url, data={**base, "custom_text[terms_of_service_acceptance][message]": "hi"},
                           headers=auth)
    assert text_only.status_code == 400
    too_long = httpx.post(url, data={**base, "consent_collection[terms_of_service]": "required",
                                     "custom_text[terms_of_service_acceptance][message]": "a" * 1201}, headers=auth)
    assert (too_long.status_code, too_long.json()["error"]["param"]) == (
        400, "custom_text[terms_of_service_acceptance][message]")
