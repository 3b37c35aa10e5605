"""The customer's signed status page: token checks, rate limit, the view log, what it shows."""

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from tradeline.audit.models import ActivityLog
from tradeline.brokers.models import AdminRole
from tradeline.evidence.models import CustomerEmail, StatusPageView
from tradeline.evidence.services import customer_email_send, status_link_send
from tradeline.fulfillment.models import SupplierOrder, SupplierStatusEvent
from tradeline.orders.status_link import status_path, status_token, status_url
from tradeline.payments.services import order_payment_record
from tradeline.testing.factories import make_admin

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.RATE_LIMIT_STATUS_PAGE = "1000/60"
    settings.PUBLIC_BASE_URL = "https://market.example.com"


@pytest.fixture
def paid_order(make_broker, make_order):
    broker = make_broker(share="10", markup_percent="20", business_name="Credit Boost LLC")
    order = make_order(broker=broker, prices=(100_000,), customer_name="Ada King")
    order.items.update(purchase_deadline="2026-12-15", reporting_period="18th - 21st of the month")
    order_payment_record(order_id=order.pk, amount=order.total_charged, currency="usd", method="WIRE",
                         reference="W-1", actor_user=make_admin())
    order.refresh_from_db()
    return order


def _get(client, path, **extra):
    return client.get(path, REMOTE_ADDR=extra.pop("ip", "198.51.100.8"), HTTP_USER_AGENT="Phone/1.0", **extra)


def test_status_url_is_signed_and_stable(paid_order):
    url = status_url(paid_order.pk)
    assert url == f"https://market.example.com/status/{paid_order.pk}/{status_token(paid_order.pk)}"
    assert len(status_token(paid_order.pk)) == 32 and status_token(paid_order.pk) == status_token(paid_order.pk)


def test_page_shows_the_order_and_logs_the_view(client, paid_order):
    response = _get(client, status_path(paid_order.pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert paid_order.order_number in page and "Credit Boost LLC" in page and "Bank 0" in page
    assert "Paid: ordering your tradelines" in page and "$5,000.00" in page
    assert response["Cache-Control"] == "no-store"
    view = StatusPageView.objects.get()
    assert (view.order_id, view.client_ip, view.user_agent, view.as_json) == (
        paid_order.pk, "198.51.100.8", "Phone/1.0", False)


def test_json_has_the_same_facts_and_no_broker_secrets(client, paid_order):
    response = _get(client, status_path(paid_order.pk) + "?format=json")
    assert response.status_code == 200
    data = response.json()
    assert (data["order_number"], data["seller"], data["stage"]) == (paid_order.order_number, "Credit Boost LLC",
                                                                    "PAID")
    assert data["payment"]["status"] == "SUCCEEDED" and data["payment"]["paid"] == paid_order.total_charged
    assert data["tradelines"][0]["expected"] == {"authorized_user_by": "2026-12-15", "reports_from": "2026-12-18",
                                                 "reports_to": "2026-12-21"}
    assert data["support"]["email"]
    body = response.content.decode()
    for secret in ("base_price", "revenue_share", "broker_earnings", "platform", "supplier_cost", "api_key"):
        assert secret not in body
    assert StatusPageView.objects.get().as_json is True


@pytest.mark.parametrize("mangle", [
    lambda oid, tok: f"/status/{oid}/{tok[:-1]}A" if tok[-1] != "A" else f"/status/{oid}/{tok[:-1]}B",
    lambda oid, tok: f"/status/{oid}/{tok[:20]}",
    lambda oid, tok: f"/status/{oid}/",
    lambda oid, tok: f"/status/00000000-0000-0000-0000-000000000000/{tok}",
    lambda oid, tok: f"/status/not-a-uuid/{tok}",
])
def test_tampered_or_unknown_token_is_404_and_logs_nothing(client, paid_order, mangle):
    response = _get(client, mangle(paid_order.pk, status_token(paid_order.pk)))
    assert response.status_code == 404
    assert paid_order.order_number not in response.content.decode()
    assert StatusPageView.objects.count() == 0


def test_a_valid_token_for_an_order_that_does_not_exist_is_404(client, settings):
    missing = "11111111-1111-1111-1111-111111111111"
    assert _get(client, f"/status/{missing}/{status_token(missing)}").status_code == 404


def test_rotating_the_secret_voids_old_links(client, paid_order, settings):
    old = status_path(paid_order.pk)
    settings.ORDER_STATUS_LINK_SECRET = "a-brand-new-secret-" + "x" * 20
    assert _get(client, old).status_code == 404
    assert _get(client, status_path(paid_order.pk)).status_code == 200


def test_page_is_rate_limited_per_ip_good_and_bad_tokens_alike(client, paid_order, settings):
    settings.RATE_LIMIT_STATUS_PAGE = "3/60"
    ip = "203.0.113.77"
    statuses = [_get(client, f"/status/{paid_order.pk}/{'x' * 32}", ip=ip).status_code for _ in range(3)]
    limited = _get(client, status_path(paid_order.pk), ip=ip)
    assert statuses == [404, 404, 404]
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert StatusPageView.objects.count() == 0
    assert _get(client, status_path(paid_order.pk), ip="203.0.113.78").status_code == 200


def test_stages_and_timeline_follow_the_supplier(client, paid_order):
    placed = timezone.now()
    SupplierOrder.objects.filter(order=paid_order).update(supplier_order_id="4411", placed_at=placed,
                                                          supplier_status="processing")
    supplier = SupplierOrder.objects.get(order=paid_order)
    assert _get(client, status_path(paid_order.pk) + "?format=json").json()["stage"] == "PLACED"
    SupplierStatusEvent.objects.create(supplier_order=supplier, supplier_status="au-added", stage="AUTHORIZED_USER",
                                       occurred_at=placed, note="Added to the Chase card.")
    data = _get(client, status_path(paid_order.pk) + "?format=json").json()
    assert data["stage"] == "AUTHORIZED_USER"
    assert [s["done"] for s in data["steps"]] == [True, True, True, False, False]
    assert data["timeline"][-1]["event"] == "You were added as an authorized user"
    assert data["timeline"][-1]["note"] == "Added to the Chase card."


def test_customer_email_once_per_change_and_with_the_link(paid_order):
    args = {"order": paid_order, "key": "stage:REPORTING", "kind": "posted", "subject": "Posted",
            "template": "evidence/email/order_update", "context": {"headline": "Your tradeline posted.",
                                                                   "lines": []}}
    assert customer_email_send(**args) is True
    assert customer_email_send(**args) is False
    assert len(mail.outbox) == 1 and CustomerEmail.objects.count() == 1
    message = mail.outbox[0]
    assert status_url(paid_order.pk) in message.body
    assert status_url(paid_order.pk) in message.alternatives[0][0]
    assert CustomerEmail.objects.get().status == "SENT"


def test_admin_resends_the_status_link(paid_order):
    client = Client()
    client.force_login(make_admin(role=AdminRole.ADMIN))
    page = client.get(f"/admin/orders/order/{paid_order.pk}/change/").content.decode()
    assert status_url(paid_order.pk) in page
    response = client.post(f"/admin/orders/order/{paid_order.pk}/action/resend-status-link/")
    assert response.status_code == 302
    client.post(f"/admin/orders/order/{paid_order.pk}/action/resend-status-link/")
    assert [m.to for m in mail.outbox] == [[paid_order.customer_email]] * 2
    assert status_url(paid_order.pk) in mail.outbox[0].body
    assert CustomerEmail.objects.filter(kind="status_link").count() == 2


def test_support_role_cannot_resend(paid_order):
    client = Client()
    client.force_login(make_admin(role=AdminRole.SUPPORT))
    client.post(f"/admin/orders/order/{paid_order.pk}/action/resend-status-link/")
    assert mail.outbox == [] and CustomerEmail.objects.count() == 0


def test_status_link_send_logs_the_resend(paid_order):
    assert status_link_send(order=paid_order) is True
    assert ActivityLog.objects.get(action="order.status_link_sent").metadata == {
        "order_number": paid_order.order_number, "sent": True}


def test_errors_of_the_json_variant_are_json(client, paid_order, settings):
    missing = _get(client, f"/status/{paid_order.pk}/{'x' * 32}?format=json")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    settings.RATE_LIMIT_STATUS_PAGE = "1/60"
    _get(client, status_path(paid_order.pk) + "?format=json", ip="203.0.113.90")
    limited = _get(client, status_path(paid_order.pk) + "?format=json", ip="203.0.113.90")
    assert limited.status_code == 429 and limited.json()["code"] == "RATE_LIMITED"
    assert int(limited["Retry-After"]) >= 1
