"""EstimatedCountPaginator: exact up to the limit, the planner's estimate beyond it on PostgreSQL."""

import pytest
from django.db import connection

from tradeline.core import pagination
from tradeline.core.pagination import EstimatedCountPaginator
from tradeline.orders.models import Order

pytestmark = pytest.mark.django_db


def test_counts_exactly_up_to_the_limit(make_order, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 3)
    orders = [make_order() for _ in range(3)]
    paginator = EstimatedCountPaginator(Order.objects.order_by("-created_at"), 2)
    assert (paginator.count, paginator.num_pages) == (3, 2)
    only_one = EstimatedCountPaginator(Order.objects.filter(pk=orders[0].pk), 2)
    assert only_one.count == 1


def test_beyond_the_limit_the_estimate_stands_in_for_the_count(make_order, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 3)
    for _ in range(6):
        make_order()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE orders_order")
    paginator = EstimatedCountPaginator(Order.objects.order_by("-created_at"), 2)
    # SQLite counts; PostgreSQL's planner knows the table's 6 rows from ANALYZE.
    assert (paginator.count, paginator.num_pages) == (6, 3)
    assert [o.pk for o in paginator.page(3)] == list(Order.objects.order_by("-created_at")
                                                     .values_list("pk", flat=True)[4:6])
