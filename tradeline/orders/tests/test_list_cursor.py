"""Keyset pagination of the order lists: `next` cursors walk every order once, newest first, also
across orders created in the same instant; a cursor is refused beside a page number or when forged."""

from datetime import UTC, datetime

import pytest

from tradeline.core.errors import ValidationFailed
from tradeline.orders import list_selectors
from tradeline.orders.models import Order
from tradeline.orders.tests.conftest import admin_bearer, broker_key

SAME_INSTANT = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)


def _orders(make_broker, make_order):
    broker = make_broker()
    orders = [make_order(broker=broker) for _ in range(7)]
    for n, order in enumerate(orders):  # three share one instant; the others a minute apart
        when = SAME_INSTANT if n in (2, 3, 4) else SAME_INSTANT.replace(minute=n)
        Order.objects.filter(pk=order.pk).update(created_at=when)
    newest_first = list(Order.objects.filter(broker=broker).order_by("-created_at", "-pk")
                        .values_list("order_number", flat=True))
    return broker, newest_first


def _walk(limit: int, **filters) -> tuple[list[str], int]:
    seen, pages, cursor = [], 0, None
    while True:
        page = list_selectors.order_list(limit=limit, cursor=cursor, **filters)
        pages += 1
        seen += [row["order_number"] for row in page["orders"]]
        cursor = page["next"]
        if cursor is None:
            return seen, pages


@pytest.mark.django_db
def test_next_cursors_walk_every_order_once_newest_first(make_broker, make_order):
    broker, newest_first = _orders(make_broker, make_order)
    assert _walk(2, broker=broker) == (newest_first, 4)
    assert _walk(3, broker_id=broker.pk) == (newest_first, 3)
    assert _walk(7, broker=broker) == (newest_first, 1)


@pytest.mark.django_db
def test_an_offset_page_hands_out_the_cursor_of_the_page_after_it(make_broker, make_order):
    broker, newest_first = _orders(make_broker, make_order)
    second = list_selectors.order_list(broker=broker, page=2, limit=2)
    assert [row["order_number"] for row in second["orders"]] == newest_first[2:4]
    third = list_selectors.order_list(broker=broker, limit=2, cursor=second["next"])
    assert [row["order_number"] for row in third["orders"]] == newest_first[4:6]
    assert (third["pagination"], third["summary"]["orders_count"]) == (
        {"page": 1, "limit": 2, "total": 7, "pages": 4}, 7)


@pytest.mark.django_db
def test_cursor_at_points_after_that_many_orders(make_broker, make_order):
    broker, newest_first = _orders(make_broker, make_order)
    page = list_selectors.order_list(broker=broker, limit=10, cursor=list_selectors.order_cursor_at(5, broker=broker))
    assert [row["order_number"] for row in page["orders"]] == newest_first[5:]
    assert page["next"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("kwargs", [
    {"cursor": "not-a-cursor"},
    {"cursor": "MjAyNi0xMS0wNVQxMjowMDowMHxub3QtYS11dWlk"},  # a time, then no UUID
    {"cursor": "MjAyNi0xMS0wNVQxMjowMDowMHw3Y2U4ZjRlYi0yZjFmLTQzYjctOWQ3Mi0xNDg0MjcwYjhhOGI", "page": 2},
])
def test_a_forged_cursor_or_one_beside_a_page_is_422(db, kwargs):
    with pytest.raises(ValidationFailed) as err:
        list_selectors.order_list(**kwargs)
    assert err.value.code == "INVALID_CURSOR"


@pytest.mark.django_db
def test_the_api_lists_hand_out_and_take_cursors(client, make_broker, make_order):
    broker, newest_first = _orders(make_broker, make_order)
    key = {"HTTP_X_API_KEY": broker_key(broker)}
    first = client.get("/api/orders/broker?limit=4", **key).json()
    assert [row["order_number"] for row in first["orders"]] == newest_first[:4]
    rest = client.get(f"/api/orders/broker?limit=4&cursor={first['next']}", **key).json()
    assert ([row["order_number"] for row in rest["orders"]], rest["next"]) == (newest_first[4:], None)
    admin = {"HTTP_AUTHORIZATION": admin_bearer()}
    everything = client.get(f"/api/orders?limit=4&cursor={first['next']}", **admin).json()
    assert [row["order_number"] for row in everything["orders"]] == newest_first[4:]
    bad = client.get("/api/orders?cursor=zzz", **admin)
    assert (bad.status_code, bad.json()["code"]) == (422, "INVALID_CURSOR")


@pytest.mark.django_db
def test_a_summary_over_many_orders_is_computed_once_a_minute(make_broker, make_order, monkeypatch):
    from django.core.cache import cache
    from django.db import connection

    monkeypatch.setattr(list_selectors, "SUMMARY_LIVE_ROWS", 2)
    cache.clear()
    broker = make_broker()
    for _ in range(3):
        make_order(broker=broker)
    if connection.vendor != "postgresql":  # no planner estimate: always computed
        first = list_selectors.order_list(broker=broker)["summary"]
        assert (first["orders_count"], first["as_of"]) == (3, None)
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")
    first = list_selectors.order_list(broker=broker)["summary"]
    make_order(broker=broker)
    again = list_selectors.order_list(broker=broker)["summary"]
    assert (first["orders_count"], again["orders_count"], again["as_of"]) == (3, 3, first["as_of"])
    assert first["as_of"] is not None
    other_filter = list_selectors.order_list(broker=broker, status="PENDING")["summary"]
    assert other_filter["orders_count"] == 4
    cache.clear()
    assert list_selectors.order_list(broker=broker)["summary"]["orders_count"] == 4
