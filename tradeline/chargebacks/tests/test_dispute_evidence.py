"""Dispute evidence from our records, sent to the local Stripe server through the SDK."""

import json
import time

import pytest
from django.test import Client
from django.utils import timezone

from tradeline.audit.models import ActivityLog
from tradeline.brokers.models import AdminRole
from tradeline.evidence.models import DisputeCase, EvidenceSubmission, StatusPageView
from tradeline.fulfillment.models import SupplierOrder, SupplierStatusEvent
from tradeline.orders.models import DisputeStatus
from tradeline.orders.status_link import status_path
from tradeline.orders.tests.conftest import admin_bearer, catalog, fast_test_settings  # noqa: F401
from tradeline.payments import stripe_gateway
from tradeline.payments.services.checkout import checkout_create
from tradeline.payments.tests import sim
from tradeline.payments.tests.conftest import _webhook_secret  # noqa: F401
from tradeline.testing.agreements import agreement_consent
from tradeline.testing.factories import make_admin

pytestmark = pytest.mark.django_db
URL = "/api/orders/{}/dispute/evidence"


@pytest.fixture
def disputed(client, catalog, make_broker, stripe_sim, settings):
    """A Stripe-paid order, placed and posted at the supplier, viewed once, then disputed."""
    settings.RATE_LIMIT_STATUS_PAGE = "1000/60"
    broker = make_broker(share="10", markup_percent="20")
    order, session = checkout_create(broker=broker, customer_email="ann@example.com", customer_name="Ann Lee",
                                     items=[("card-chase", 1)],
                                     agreement=agreement_consent(client_ip="198.51.100.23", user_agent="Phone/2"))
    start = len(stripe_sim.events())
    stripe_sim.pay(session.id, name="Ann Lee", deliver=False)
    sim.post_all(client, stripe_sim, after=start)
    now = timezone.now()
    SupplierOrder.objects.filter(order=order).update(supplier_order_id="5150", placed_at=now)
    supplier = SupplierOrder.objects.get(order=order)
    SupplierStatusEvent.objects.create(supplier_order=supplier, supplier_status="posted", stage="REPORTING",
                                       occurred_at=now, note="Reported on the statement.")
    client.get(status_path(order.pk), REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT="Phone/2")
    charge = stripe_sim.session(session.id)
    intent = stripe_gateway.retrieve_payment_intent(charge["payment_intent"])
    start = len(stripe_sim.events())
    dispute = stripe_sim.dispute(intent["latest_charge"], deliver=False)
    sim.post_all(client, stripe_sim, after=start)
    order.refresh_from_db()
    return order, dispute


def _auth(role=AdminRole.STAFF):
    return {"HTTP_AUTHORIZATION": admin_bearer(role)}


def _post(client, order, body, role=AdminRole.STAFF):
    return client.post(URL.format(order.pk), data=json.dumps(body), content_type="application/json", **_auth(role))


def test_dispute_opening_records_the_case(disputed):
    order, dispute = disputed
    case = DisputeCase.objects.get()
    assert (case.order_id, case.stripe_dispute_id, case.reason, case.status) == (
        order.pk, dispute["id"], "fraudulent", "needs_response")
    assert case.due_by is not None and order.dispute_status == DisputeStatus.OPEN


def test_draft_is_assembled_from_our_records(client, disputed):
    order, dispute = disputed
    response = client.get(URL.format(order.pk), **_auth(AdminRole.SUPPORT))
    assert response.status_code == 200
    out = response.json()
    evidence = out["evidence"]
    assert out["dispute"]["id"] == dispute["id"]
    assert (evidence["customer_name"], evidence["customer_email_address"], evidence["customer_purchase_ip"]) == (
        "Ann Lee", "ann@example.com", "198.51.100.23")
    acceptance = order.agreement_acceptance
    assert f"version {acceptance.version}" in evidence["refund_policy_disclosure"]
    assert acceptance.accepted_at.isoformat() in evidence["refund_policy_disclosure"]
    assert "Phone/2" in evidence["refund_policy_disclosure"]
    assert "Stripe Checkout's terms-of-service consent: accepted" in evidence["refund_policy_disclosure"]
    assert "Chase" in evidence["product_description"]
    assert evidence["service_date"] == timezone.now().date().isoformat()
    assert "supplier order 5150" in evidence["refund_refusal_explanation"]
    assert "198.51.100.23" in evidence["access_activity_log"]
    assert "Supplier status posted (REPORTING)" in evidence["uncategorized_text"]
    assert out["records"]["status_page_views"][0]["client_ip"] == "198.51.100.23"


def test_save_then_submit_reaches_stripe_once(client, disputed, stripe_sim):
    order, dispute = disputed
    saved = _post(client, order, {"submit": False})
    assert saved.status_code == 200, saved.content
    remote = stripe_gateway.retrieve_dispute(dispute["id"])
    assert remote["evidence"]["customer_purchase_ip"] == "198.51.100.23"
    assert remote["evidence_details"]["has_evidence"] is True
    assert remote["evidence_details"]["submission_count"] == 0 and remote["status"] == "needs_response"
    assert _post(client, order, {"submit": False}).status_code == 200  # the same draft again: logged once
    assert EvidenceSubmission.objects.count() == 1

    submitted = _post(client, order, {"submit": True})
    assert submitted.status_code == 200
    remote = stripe_gateway.retrieve_dispute(dispute["id"])
    assert (remote["status"], remote["evidence_details"]["submission_count"]) == ("under_review", 1)
    acceptance = order.agreement_acceptance
    assert acceptance.accepted_at.isoformat() in remote["evidence"]["refund_policy_disclosure"]
    case = DisputeCase.objects.get()
    assert case.submitted_at is not None and (case.submission_count, case.has_evidence) == (1, True)
    assert ActivityLog.objects.filter(action="order.dispute_evidence_submitted").count() == 1

    again = _post(client, order, {"submit": True})
    assert (again.status_code, again.json()["code"]) == (409, "EVIDENCE_ALREADY_SUBMITTED")
    assert stripe_gateway.retrieve_dispute(dispute["id"])["evidence_details"]["submission_count"] == 1
    assert EvidenceSubmission.objects.count() == 2


def test_evidence_after_the_due_date_is_refused(client, disputed, stripe_sim):
    order, dispute = disputed
    past = int(time.time()) - 60
    stripe_sim.set_dispute_due_by(dispute["id"], past)
    DisputeCase.objects.update(due_by=timezone.now() - timezone.timedelta(seconds=60))
    response = _post(client, order, {"submit": True})
    assert (response.status_code, response.json()["code"]) == (409, "EVIDENCE_PAST_DUE")
    assert EvidenceSubmission.objects.count() == 0
    assert stripe_gateway.retrieve_dispute(dispute["id"])["evidence_details"]["has_evidence"] is False


def test_stripe_refuses_late_evidence_too(client, disputed, stripe_sim):
    """Our copy of due_by is stale (Stripe moved it): Stripe's refusal is a 4xx, nothing recorded."""
    order, dispute = disputed
    stripe_sim.set_dispute_due_by(dispute["id"], int(time.time()) - 5)
    response = _post(client, order, {"submit": True})
    assert 400 <= response.status_code < 500 and response.json()["code"] == "STRIPE_REJECTED"
    assert EvidenceSubmission.objects.count() == 0 and DisputeCase.objects.get().submitted_at is None


def test_without_a_dispute_nothing_is_sent_and_support_cannot_send(client, disputed, make_order):
    order, _ = disputed
    other = make_order(prices=(100_000,))
    draft = client.get(URL.format(other.pk), **_auth())
    assert draft.status_code == 200 and draft.json()["dispute"] is None
    refused = _post(client, other, {"submit": True})
    assert (refused.status_code, refused.json()["code"]) == (409, "NO_DISPUTE")
    missing = client.get(URL.format("00000000-0000-0000-0000-000000000000"), **_auth())
    assert (missing.status_code, missing.json()["code"]) == (404, "ORDER_NOT_FOUND")
    assert _post(client, order, {"submit": True}, role=AdminRole.SUPPORT).status_code == 403
    assert client.get(URL.format(order.pk)).status_code == 401
    assert EvidenceSubmission.objects.count() == 0


def test_one_click_submit_in_the_dashboard(disputed, stripe_sim):
    order, dispute = disputed
    browser = Client()
    browser.force_login(make_admin(role=AdminRole.ADMIN))
    page = browser.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert 'id="dispute-evidence"' in page and "customer_purchase_ip" in page
    browser.post(f"/admin/orders/order/{order.pk}/action/dispute-evidence-submit/")
    assert stripe_gateway.retrieve_dispute(dispute["id"])["status"] == "under_review"
    assert StatusPageView.objects.count() == 1
