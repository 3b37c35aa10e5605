"""checkout_create and checkout_cancel against the local Stripe server (real HTTP through the SDK)."""

import json
from datetime import UTC

import pytest
from django.utils import timezone

from tradeline.testing.agreements import agreement_consent, agreement_fields
from tradeline.analytics.models import BrokerDailyStats
from tradeline.audit.models import ActivityLog
from tradeline.brokers.models import AdminRole, KeyKind
from tradeline.core.errors import ApplicationError, UpstreamError
from tradeline.orders.models import Order, OrderStatus, PaymentStatus
from tradeline.orders.tests.conftest import admin_auth, admin_bearer, api, broker_key, catalog, fast_test_settings  # noqa: F401
from tradeline.orders.status_link import status_url
from tradeline.payments.services import checkout as services
from tradeline.payouts.models import CommissionRecord
from tradeline.testing.factories import session_of


def _starts(broker) -> int:
    row = BrokerDailyStats.objects.filter(broker=broker, date=timezone.now().astimezone(UTC).date()).first()
    return row.checkout_starts if row else 0


@pytest.fixture
def broker(make_broker):
    return make_broker(share="10", markup_percent="20", website="https://broker.example.com/")


@pytest.mark.django_db
def test_checkout_creates_order_and_matching_stripe_session(catalog, broker, stripe_sim, settings):
    order, session = services.checkout_create(
        broker=broker, customer_email="ann@example.com", customer_name="Ann",
        items=[("card-chase", 2), ("card-amex", 1)], agreement=agreement_consent())
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.PENDING, PaymentStatus.PENDING)
    assert session_of(order) == session.id and session.url
    assert order.checkout_expires_at == session.expires_at
    minutes = (order.checkout_expires_at - timezone.now()).total_seconds() / 60
    assert settings.STRIPE_CHECKOUT_EXPIRY_MINUTES - 2 < minutes <= settings.STRIPE_CHECKOUT_EXPIRY_MINUTES

    remote = stripe_sim.session(session.id)
    assert remote["amount_total"] == order.total_charged == 2 * 120_000 + 40_000
    assert remote["currency"] == "usd" and remote["mode"] == "payment"
    assert remote["customer_email"] == "ann@example.com"
    assert remote["metadata"] == {"order_id": str(order.pk), "order_number": order.order_number,
                                  "broker_id": str(broker.pk)}
    assert remote["success_url"] == f"https://broker.example.com/success?order={order.order_number}"
    assert remote["cancel_url"] == "https://broker.example.com/cart"
    lines = sorted((li["price"]["unit_amount"], li["quantity"], li["amount_total"]) for li in remote["line_items"])
    assert lines == [(40_000, 1, 40_000), (120_000, 2, 240_000)]
    assert any("Chase" in li["description"] and "$15,000.00" in li["description"] for li in remote["line_items"])

    assert _starts(broker) == 1
    actions = list(ActivityLog.objects.filter(entity_id=str(order.pk)).values_list("action", flat=True))
    assert sorted(actions) == ["order.checkout_created", "order.created"]
    assert CommissionRecord.objects.count() == 0


@pytest.mark.django_db
def test_request_urls_win_over_the_website(catalog, broker, stripe_sim):
    order, session = services.checkout_create(
        broker=broker, customer_email="a@example.com", items=[("card-chase", 1)],
        success_url="https://shop.example.com/thanks", cancel_url=None, agreement=agreement_consent())
    remote = stripe_sim.session(session.id)
    assert remote["success_url"] == "https://shop.example.com/thanks"
    assert remote["cancel_url"] == "https://broker.example.com/cart"


@pytest.mark.django_db
@pytest.mark.parametrize("fault, status, code", [
    ({"status": 500}, 502, "STRIPE_UNAVAILABLE"),
    ({"status": 503}, 502, "STRIPE_UNAVAILABLE"),
    ({"status": 429}, 502, "STRIPE_UNAVAILABLE"),
    ({"status": 400}, 400, "STRIPE_REJECTED"),
])
def test_stripe_failure_cancels_the_order(catalog, broker, stripe_sim, fault, status, code):
    stripe_sim.set_faults(**fault)
    with pytest.raises(ApplicationError) as err:
        services.checkout_create(broker=broker, customer_email="a@example.com", items=[("card-chase", 1)], agreement=agreement_consent())
    assert (err.value.status, err.value.code) == (status, code)
    order = Order.objects.get()
    assert (order.status, order.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.CANCELLED)
    assert order.cancellation_reason == f"checkout failed: {code}" and order.cancelled_at is not None
    assert session_of(order) is None
    assert not Order.objects.filter(status=OrderStatus.PENDING).exists()
    assert _starts(broker) == 0
    assert ActivityLog.objects.filter(action="order.checkout_failed", entity_id=str(order.pk)).count() == 1


@pytest.mark.django_db
def test_stripe_timeout_cancels_the_order(catalog, broker, stripe_sim, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_sim.set_faults(delay_ms=1500)
    with pytest.raises(UpstreamError) as err:
        services.checkout_create(broker=broker, customer_email="a@example.com", items=[("card-chase", 1)], agreement=agreement_consent())
    assert err.value.code == "STRIPE_UNAVAILABLE"
    assert list(Order.objects.values_list("status", flat=True)) == [OrderStatus.CANCELLED]


@pytest.mark.django_db
def test_unconfigured_stripe_cancels_the_order(catalog, broker, settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(UpstreamError):
        services.checkout_create(broker=broker, customer_email="a@example.com", items=[("card-chase", 1)], agreement=agreement_consent())
    assert list(Order.objects.values_list("status", flat=True)) == [OrderStatus.CANCELLED]


@pytest.mark.django_db
def test_cancel_expires_the_stripe_session(catalog, broker, stripe_sim, admin_user):
    order, session = services.checkout_create(broker=broker, customer_email="a@example.com",
                                              items=[("card-chase", 1)], agreement=agreement_consent())
    cancelled = services.checkout_cancel(order_id=order.pk, actor_user=admin_user, reason="duplicate")
    assert (cancelled.status, cancelled.cancellation_reason) == (OrderStatus.CANCELLED, "duplicate")
    assert stripe_sim.session(session.id)["status"] == "expired"


@pytest.mark.django_db
def test_cancel_still_cancels_when_stripe_is_down(catalog, broker, stripe_sim, admin_user):
    order, _ = services.checkout_create(broker=broker, customer_email="a@example.com", items=[("card-chase", 1)], agreement=agreement_consent())
    stripe_sim.set_faults(status=500)
    services.checkout_cancel(order_id=order.pk, actor_user=admin_user)
    order.refresh_from_db()
    assert (order.status, order.cancellation_reason) == (OrderStatus.CANCELLED, "cancelled by admin")


# --- over the API ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_checkout_endpoint_returns_201_with_session(api, catalog, broker, stripe_sim):
    body = {"customer_email": "ann@example.com", "customer_name": "Ann",
            "items": [{"card_id": "card-amex", "quantity": 3}], **agreement_fields()}
    response = api.post("/api/orders/checkout", data=json.dumps(body), content_type="application/json",
                        HTTP_X_API_KEY=broker_key(broker, KeyKind.PUBLISHABLE))
    assert response.status_code == 201, response.content
    out = response.json()
    order = Order.objects.get()
    assert out == {"session_id": session_of(order), "checkout_url": stripe_sim.session(out["session_id"])["url"],
                   "order_id": str(order.pk), "order_number": order.order_number,
                   "total_charged": 3 * 40_000, "total_charged_usd": "1200.00",
                   "status_url": status_url(order.pk)}


@pytest.mark.django_db
def test_checkout_endpoint_stripe_outage_is_502_and_no_pending_order(api, catalog, broker, stripe_sim):
    stripe_sim.set_faults(status=500)
    body = {"customer_email": "ann@example.com", "items": [{"card_id": "card-chase", "quantity": 1}],
            **agreement_fields()}
    response = api.post("/api/orders/checkout", data=json.dumps(body), content_type="application/json",
                        HTTP_X_API_KEY=broker_key(broker))
    assert (response.status_code, response.json()["code"]) == (502, "STRIPE_UNAVAILABLE")
    assert list(Order.objects.values_list("status", "payment_status")) == [("CANCELLED", "CANCELLED")]
    assert _starts(broker) == 0


@pytest.mark.django_db
def test_admin_direct_sale_with_checkout(api, catalog, stripe_sim, settings):
    settings.PUBLIC_BASE_URL = "https://market.example.com"
    body = {"customer_email": "walk-in@example.com", "items": [{"card_id": "card-chase", "quantity": 1}],
            **agreement_fields()}
    response = api.post("/api/admin/orders", data=json.dumps(body), content_type="application/json",
                        HTTP_AUTHORIZATION=admin_bearer(AdminRole.STAFF))
    assert response.status_code == 201, response.content
    out = response.json()
    remote = stripe_sim.session(out["session_id"])
    number = out["order"]["order_number"]
    assert out["checkout_url"] == remote["url"] and out["order"]["stripe_session_id"] == out["session_id"]
    assert remote["amount_total"] == 100_000 and remote["metadata"]["broker_id"] == "direct"
    assert remote["success_url"] == f"https://market.example.com/checkout/success?order={number}"
    assert remote["cancel_url"] == f"https://market.example.com/checkout/cancel?order={number}"


@pytest.mark.django_db
def test_cancel_endpoint_expires_session(api, catalog, broker, stripe_sim, admin_auth):
    order, session = services.checkout_create(broker=broker, customer_email="a@example.com",
                                              items=[("card-chase", 1)], agreement=agreement_consent())
    response = api.post(f"/api/orders/{order.pk}/cancel", data="{}", content_type="application/json",
                        **admin_auth)
    assert response.status_code == 200 and response.json()["status"] == "CANCELLED"
    assert stripe_sim.session(session.id)["status"] == "expired"
