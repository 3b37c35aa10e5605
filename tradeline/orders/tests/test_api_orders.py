"""Order endpoints over the Django test client: who may see and do what, and input errors as 4xx."""

import json
import secrets
import uuid

import pytest
from django.db.models import F
from django.utils import timezone

from tradeline.testing.agreements import agreement_fields
from tradeline.audit.models import ActivityLog
from tradeline.brokers.models import AdminRole, BrokerStatus, KeyKind
from tradeline.orders.models import Order, OrderItem, OrderStatus, PaymentStatus
from tradeline.orders.tests.conftest import admin_bearer, broker_key, old, seed_catalog
from tradeline.payouts.services import commission_create_for_order
from tradeline.testing.factories import session_of


def _get(api, path, **headers):
    return api.get(path, **headers)


def _post(api, path, body=None, **headers):
    return api.post(path, data=json.dumps(body) if body is not None else "", content_type="application/json",
                    **headers)


def _key(key):
    return {"HTTP_X_API_KEY": key}


def _nothing_created():
    assert Order.objects.count() == 0
    assert OrderItem.objects.count() == 0


# --- GET /api/orders/{id} ------------------------------------------------------------------------

@pytest.mark.django_db
def test_order_detail_for_admin_and_owner_only(api, make_broker, make_order):
    owner, other = make_broker(), make_broker()
    order = make_order(broker=owner, prices=(100_000,))
    path = f"/api/orders/{order.pk}"

    admin = _get(api, path, HTTP_AUTHORIZATION=admin_bearer())
    assert admin.status_code == 200
    assert admin.json()["commission_breakdown"]["broker_total"] == 30_000
    assert admin.json()["cancellation_reason"] == ""
    support = _get(api, path, HTTP_AUTHORIZATION=admin_bearer(AdminRole.SUPPORT))
    assert support.status_code == 200

    mine = _get(api, path, **_key(broker_key(owner)))
    assert mine.status_code == 200
    body = mine.json()
    assert body["id"] == str(order.pk) and body["total_charged_usd"] == "1200.00"
    assert body["items"][0]["customer_price"] == 120_000
    assert "review_reason" not in body and "cancellation_reason" not in body

    assert _get(api, path, **_key(broker_key(other))).status_code == 404
    assert _get(api, path, **_key(broker_key(owner, KeyKind.PUBLISHABLE))).json()["code"] == "SECRET_KEY_REQUIRED"
    assert _get(api, path).status_code == 401
    assert _get(api, path, **_key("tlm_sk_nope_nope")).status_code == 401
    assert _get(api, path, HTTP_AUTHORIZATION="Bearer tlm_at_bogus_bogus").status_code == 401


@pytest.mark.django_db
# Fixed values only: pytest-xdist workers collect separately and must agree on every test id.
@pytest.mark.parametrize("order_id", ["not-a-uuid", "123", "6f1c0d6e-2b7a-4c3e-9d41-0a5b8e2f7c19", "%00",
                                      "' or 1=1 --"])
def test_unknown_or_malformed_order_id_is_404(api, make_broker, order_id):
    broker = make_broker()
    for headers in ({"HTTP_AUTHORIZATION": admin_bearer()}, _key(broker_key(broker))):
        response = _get(api, f"/api/orders/{order_id}", **headers)
        assert response.status_code == 404
        assert response.json()["code"] in ("NOT_FOUND", "ORDER_NOT_FOUND")


# --- GET /api/orders/broker ----------------------------------------------------------------------

@pytest.mark.django_db
def test_broker_list_shows_own_orders_with_summary(api, make_broker, make_order):
    broker, other = make_broker(), make_broker()
    mine = [make_order(broker=broker, prices=(100_000,)) for _ in range(3)]
    make_order(broker=other)
    Order.objects.filter(pk=mine[0].pk).update(status=OrderStatus.COMPLETED, amount_paid=F("total_charged"),
                                               payment_status=PaymentStatus.SUCCEEDED, paid_at=timezone.now())
    commission_create_for_order(order=mine[0])  # what the paid transition books: the broker's figures
    key = broker_key(broker)

    response = _get(api, "/api/orders/broker?limit=2", **_key(key))
    assert response.status_code == 200
    body = response.json()
    assert body["pagination"] == {"page": 1, "limit": 2, "total": 3, "pages": 2}
    assert {row["id"] for row in body["orders"]} <= {str(o.pk) for o in mine}
    assert body["summary"]["paid_orders_count"] == 1 and body["summary"]["commission"] == 30_000
    completed = _get(api, "/api/orders/broker?status=COMPLETED", **_key(key)).json()
    assert [row["id"] for row in completed["orders"]] == [str(mine[0].pk)]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "page=0", "page=-1", "status=PAID",
                                   "start_date=tomorrow", "end_date=2026-02-30",
                                   "start_date=2026-11-02&end_date=2026-11-01"])
def test_broker_list_bad_query_is_422(api, make_broker, query):
    response = _get(api, f"/api/orders/broker?{query}", **_key(broker_key(make_broker())))
    assert response.status_code == 422
    assert response.json()["code"] in ("VALIDATION_ERROR", "INVALID_STATUS", "INVALID_DATE", "INVALID_DATE_RANGE")


@pytest.mark.django_db
def test_broker_list_needs_the_secret_key(api, make_broker):
    broker = make_broker()
    assert _get(api, "/api/orders/broker", **_key(broker_key(broker, KeyKind.PUBLISHABLE))).status_code == 403
    assert _get(api, "/api/orders/broker").status_code == 401
    assert _get(api, "/api/orders/broker", HTTP_AUTHORIZATION=admin_bearer()).status_code == 401


# --- GET /api/orders (admin) ---------------------------------------------------------------------

@pytest.mark.django_db
def test_admin_list_filters_by_broker_and_direct(api, admin_auth, make_broker, make_order):
    one, two = make_broker(), make_broker()
    a, b, direct = make_order(broker=one), make_order(broker=two), make_order(broker=None)
    everything = _get(api, "/api/orders", **admin_auth).json()
    assert everything["pagination"]["total"] == 3
    assert {row["broker"]["id"] if row["broker"] else None for row in everything["orders"]} == {
        str(one.pk), str(two.pk), None}
    only_one = _get(api, f"/api/orders?broker_id={one.pk}", **admin_auth).json()
    assert [row["id"] for row in only_one["orders"]] == [str(a.pk)]
    only_direct = _get(api, "/api/orders?broker_id=direct", **admin_auth).json()
    assert [row["id"] for row in only_direct["orders"]] == [str(direct.pk)]
    assert b.pk  # the other broker's order is listed only unfiltered
    bad = _get(api, "/api/orders?broker_id=nope", **admin_auth)
    assert (bad.status_code, bad.json()["code"]) == (422, "INVALID_BROKER_ID")


@pytest.mark.django_db
def test_admin_list_is_for_admins_only(api, make_broker):
    broker = make_broker()
    assert _get(api, "/api/orders").status_code == 401
    assert _get(api, "/api/orders", **_key(broker_key(broker))).status_code == 401
    assert _get(api, "/api/orders", HTTP_AUTHORIZATION=admin_bearer(AdminRole.SUPPORT)).status_code == 200


# --- POST /api/orders/{id}/cancel ----------------------------------------------------------------

@pytest.mark.django_db
def test_cancel_pending_order_once(api, admin_auth, make_broker, make_order):
    order = make_order(broker=make_broker())
    path = f"/api/orders/{order.pk}/cancel"
    response = _post(api, path, {"reason": "customer asked"}, **admin_auth)
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["payment_status"]) == ("CANCELLED", "CANCELLED")
    order.refresh_from_db()
    assert order.cancellation_reason == "customer asked" and order.cancelled_at is not None
    assert ActivityLog.objects.filter(action="order.cancelled", entity_id=str(order.pk)).count() == 1
    again = _post(api, path, **admin_auth)
    assert (again.status_code, again.json()["code"]) == (409, "ORDER_NOT_PENDING")
    assert ActivityLog.objects.filter(action="order.cancelled").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("status", [OrderStatus.PROCESSING, OrderStatus.COMPLETED, OrderStatus.REFUNDED,
                                    OrderStatus.FAILED, OrderStatus.ON_HOLD])
def test_only_pending_orders_can_be_cancelled(api, admin_auth, make_order, status):
    order = make_order()
    Order.objects.filter(pk=order.pk).update(status=status, payment_status=PaymentStatus.SUCCEEDED)
    response = _post(api, f"/api/orders/{order.pk}/cancel", **admin_auth)
    assert (response.status_code, response.json()["code"]) == (409, "ORDER_NOT_PENDING")
    order.refresh_from_db()
    assert order.status == status and order.cancelled_at is None


@pytest.mark.django_db
def test_cancel_needs_a_writing_admin(api, make_broker, make_order):
    broker = make_broker()
    order = make_order(broker=broker)
    path = f"/api/orders/{order.pk}/cancel"
    assert _post(api, path).status_code == 401
    assert _post(api, path, **_key(broker_key(broker))).status_code == 401
    support = _post(api, path, HTTP_AUTHORIZATION=admin_bearer(AdminRole.SUPPORT))
    assert (support.status_code, support.json()["code"]) == (403, "READ_ONLY_ROLE")
    assert _post(api, f"/api/orders/{uuid.uuid4()}/cancel", HTTP_AUTHORIZATION=admin_bearer()).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


# --- POST /api/admin/orders ----------------------------------------------------------------------

@pytest.mark.django_db
def test_admin_direct_sale_without_checkout(api, admin_auth, catalog):
    response = _post(api, "/api/admin/orders", {
        "customer_email": "walk-in@example.com", "customer_name": "Walk In",
        "items": [{"card_id": "card-chase", "quantity": 2}], "create_checkout": False, **agreement_fields(),
    }, **admin_auth)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["session_id"] is None and body["checkout_url"] is None
    order = Order.objects.get(pk=body["order"]["id"])
    assert order.broker is None and order.status == OrderStatus.PENDING and session_of(order) is None
    assert (order.total_charged, order.broker_revenue_share, order.platform_net_revenue) == (200_000, 0, 100_000)
    log = ActivityLog.objects.get(action="order.created")
    assert log.actor_type == "ADMIN" and log.actor_user is not None


@pytest.mark.django_db
@pytest.mark.parametrize("body", [
    {"customer_email": "bad", "items": [{"card_id": "card-chase", "quantity": 1}], "create_checkout": False},
    {"customer_email": "a@example.com", "items": [], "create_checkout": False},
    {"customer_email": "a@example.com", "items": [{"card_id": "card-chase", "quantity": 1}],
     "success_url": "ftp://x.example.com/", "create_checkout": False},
    {"customer_email": "a@example.com", "items": [{"card_id": "card-chase", "quantity": 1}],
     "create_checkout": "maybe"},
])
def test_admin_direct_sale_bad_input_is_422(api, admin_auth, catalog, body):
    assert _post(api, "/api/admin/orders", body, **admin_auth).status_code == 422
    _nothing_created()


@pytest.mark.django_db
def test_admin_direct_sale_needs_a_writing_admin(api, catalog, make_broker):
    body = {"customer_email": "a@example.com", "items": [{"card_id": "card-chase", "quantity": 1}],
            "create_checkout": False}
    assert _post(api, "/api/admin/orders", body).status_code == 401
    assert _post(api, "/api/admin/orders", body, **_key(broker_key(make_broker()))).status_code == 401
    assert _post(api, "/api/admin/orders", body, HTTP_AUTHORIZATION=admin_bearer(AdminRole.SUPPORT)).status_code == 403
    _nothing_created()


# --- POST /api/orders/checkout: every bad input is a 4xx before anything is written ---------------

GOOD_ITEMS = [{"card_id": "card-chase", "quantity": 1}]

CHECKOUT_ERRORS = [
    ({"customer_email": "a@example.com", "items": []}, 422, "CART_EMPTY"),
    ({"customer_email": "a@example.com", "items": [{"card_id": f"c{i}", "quantity": 1} for i in range(21)]},
     422, "CART_TOO_LARGE"),
    ({"customer_email": "a@example.com", "items": [{"card_id": "card-chase", "quantity": 0}]}, 422,
     "VALIDATION_ERROR"),
    ({"customer_email": "a@example.com", "items": [{"card_id": "card-chase", "quantity": 11}]}, 422,
     "VALIDATION_ERROR"),
    ({"customer_email": "a@example.com", "items": [{"card_id": "card-chase", "quantity": "x"}]}, 422,
     "VALIDATION_ERROR"),
    ({"customer_email": "a@example.com", "items": [{"card_id": "card-chase", "quantity": "2"}]}, 422,
     "VALIDATION_ERROR"),
    ({"customer_email": "a@example.com", "items": [{"card_id": "card-chase", "quantity": 1.5}]}, 422,
     "VALIDATION_ERROR"),
    ({"customer_email": "a@example.com", "items": [{"card_id": "card-chase", "quantity": 6},
                                                   {"card_id": "card-chase", "quantity": 5}]}, 422,
     "CART_QUANTITY_INVALID"),
    ({"customer_email": "a@example.com", "items": [{"card_id": "", "quantity": 1}]}, 422, "VALIDATION_ERROR"),
    ({"customer_email": "a@example.com", "items": [{"quantity": 1}]}, 422, "VALIDATION_ERROR"),
    ({"customer_email": "a@example.com", "items": "card-chase"}, 422, "VALIDATION_ERROR"),
    ({"customer_email": "a@example.com"}, 422, "VALIDATION_ERROR"),
    ({"customer_email": "a@example.com", "items": [{"card_id": "card-unknown", "quantity": 1}]}, 422,
     "CARD_NOT_FOUND"),
    ({"customer_email": "a@example.com", "items": [{"card_id": "card-empty", "quantity": 1}]}, 422,
     "OUT_OF_STOCK"),
    ({"customer_email": "a@example.com", "items": [{"card_id": "card-citi", "quantity": 2}]}, 422,
     "OUT_OF_STOCK"),
    ({"customer_email": "not-an-email", "items": GOOD_ITEMS}, 422, "INVALID_EMAIL"),
    ({"items": GOOD_ITEMS}, 422, "VALIDATION_ERROR"),
    ({"customer_email": "a@example.com", "customer_name": "n" * 201, "items": GOOD_ITEMS}, 422,
     "VALIDATION_ERROR"),
    ({"customer_email": "a@example.com", "items": GOOD_ITEMS, "success_url": "ftp://shop.example.com/ok"},
     422, "INVALID_URL"),
    ({"customer_email": "a@example.com", "items": GOOD_ITEMS, "success_url": "javascript:alert(1)"},
     422, "INVALID_URL"),
    ({"customer_email": "a@example.com", "items": GOOD_ITEMS, "cancel_url": "/cart"}, 422, "INVALID_URL"),
    ({"customer_email": "a@example.com", "items": GOOD_ITEMS, "cancel_url": "not a url"}, 422, "INVALID_URL"),
    ({"customer_email": "a@example.com", "items": GOOD_ITEMS, "cancel_url": "https://"}, 422, "INVALID_URL"),
    ({"customer_email": "a@example.com", "items": GOOD_ITEMS, "success_url": "https://x.example.com/" + "a" * 2000},
     422, "VALIDATION_ERROR"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("body, status, code", CHECKOUT_ERRORS)
def test_checkout_input_errors_create_nothing(api, catalog, make_broker, body, status, code):
    response = _post(api, "/api/orders/checkout", body, **_key(broker_key(make_broker(), KeyKind.PUBLISHABLE)))
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    _nothing_created()


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["", "{", "[]", "null", '"text"', "{\"items\": null}"])
def test_checkout_malformed_body_is_4xx(api, catalog, make_broker, raw):
    response = api.post("/api/orders/checkout", data=raw, content_type="application/json",
                        **_key(broker_key(make_broker())))
    assert 400 <= response.status_code < 500
    assert "code" in response.json()
    _nothing_created()


@pytest.mark.django_db
@pytest.mark.parametrize("status, code", [(BrokerStatus.PENDING, "BROKER_PENDING"),
                                          (BrokerStatus.SUSPENDED, "BROKER_SUSPENDED"),
                                          (BrokerStatus.INACTIVE, "BROKER_INACTIVE")])
def test_checkout_by_inactive_broker_is_403(api, catalog, make_broker, status, code):
    broker = make_broker(status=status)
    body = {"customer_email": "a@example.com", "items": GOOD_ITEMS}
    response = _post(api, "/api/orders/checkout", body, **_key(broker_key(broker, KeyKind.PUBLISHABLE)))
    assert (response.status_code, response.json()["code"]) == (403, code)
    _nothing_created()


@pytest.mark.django_db
def test_checkout_needs_a_broker_key(api, catalog):
    body = {"customer_email": "a@example.com", "items": GOOD_ITEMS}
    assert _post(api, "/api/orders/checkout", body).status_code == 401
    assert _post(api, "/api/orders/checkout", body, **_key("tlm_pk_nope_nope")).status_code == 401
    assert _post(api, "/api/orders/checkout", body, HTTP_AUTHORIZATION=admin_bearer()).status_code == 401
    _nothing_created()


@pytest.mark.django_db
def test_checkout_with_stale_catalog_is_503(api, catalog, make_broker, settings):
    seed_catalog(synced_at=old(settings.CATALOG_MAX_STALENESS_SECONDS + 1))
    body = {"customer_email": "a@example.com", "items": GOOD_ITEMS}
    response = _post(api, "/api/orders/checkout", body, **_key(broker_key(make_broker())))
    assert (response.status_code, response.json()["code"]) == (503, "CATALOG_STALE")
    _nothing_created()


@pytest.mark.django_db
def test_checkout_refused_before_stripe_is_never_counted(api, catalog, make_broker, settings):
    """Junk checkouts (unknown cards) cost no Stripe session: they never use up the limit (issue 14,
    item 7; the per-key limit used to count them and let one address block a broker's sales)."""
    settings.RATE_LIMIT_CHECKOUT = "2/60"
    key = broker_key(make_broker(), KeyKind.PUBLISHABLE)  # a fresh key: its own counter
    headers = {**_key(key), "REMOTE_ADDR": f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.7"}
    body = {"customer_email": "a@example.com", "items": [{"card_id": "card-unknown", "quantity": 1}]}
    statuses = [_post(api, "/api/orders/checkout", body, **headers).status_code for _ in range(30)]
    assert statuses == [422] * 30
    _nothing_created()


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["end_date=9999-12-31", "start_date=9999-12-31", "end_date=0001-01-01",
                                   "start_date=0001-01-01T00:00:00-05:00", "end_date=9999-12-31T23:59:59-12:00"])
def test_dates_out_of_range_are_422_for_admin_and_broker(api, make_broker, admin_auth, query):
    key = broker_key(make_broker())
    for url, headers in (("/api/orders", admin_auth), ("/api/orders/broker", _key(key))):
        response = _get(api, f"{url}?{query}", **headers)
        assert response.status_code == 422, (url, query, response.content)
        assert response.json()["code"] == "DATE_OUT_OF_RANGE"
