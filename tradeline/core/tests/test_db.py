"""core.db: INSERT unless present (the lock timeout in the same round trip), multi-row INSERT, UPDATE .. RETURNING."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, F, OuterRef, TextField, Value
from django.db.models.functions import Concat
from django.test.utils import CaptureQueriesContext

from tradeline.core.db import expression_sql, insert_all, insert_unless_present, update_returning
from tradeline.orders.models import Order, OrderStatus
from tradeline.payments.models import WebhookEvent
from tradeline.testing.factories import make_order

pytestmark = pytest.mark.django_db


def _event(event_id: str) -> WebhookEvent:
    return WebhookEvent(source="stripe", event_id=event_id, event_type="x", payload={})


def _show_lock_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        return cursor.fetchone()[0]


def test_insert_unless_present_inserts_once():
    assert insert_unless_present(_event("evt_db_1")) is True
    assert insert_unless_present(_event("evt_db_1")) is False
    assert WebhookEvent.objects.filter(event_id="evt_db_1").count() == 1


def test_insert_unless_present_refuses_a_malformed_lock_timeout():
    with pytest.raises(ValueError):
        insert_unless_present(_event("evt_db_2"), lock_timeout="5s'; DROP TABLE x; --")
    assert not WebhookEvent.objects.filter(event_id="evt_db_2").exists()


def test_insert_all_writes_the_rows_in_one_values_statement():
    rows = [_event("evt_db_5"), _event("evt_db_6")]
    with CaptureQueriesContext(connection) as ctx:
        insert_all(rows)
    assert len(ctx) == 1
    assert "UNNEST" not in ctx.captured_queries[0]["sql"] and " VALUES " in ctx.captured_queries[0]["sql"]
    assert set(WebhookEvent.objects.filter(event_id__in=["evt_db_5", "evt_db_6"]).values_list("pk", flat=True)) == {
        r.pk for r in rows}
    assert not any(r._state.adding for r in rows)
    insert_all([])  # nothing to write: no statement


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_lock_timeout_is_set_with_the_insert_for_the_transaction_only():
    before = _show_lock_timeout()
    with transaction.atomic():
        with CaptureQueriesContext(connection) as ctx:
            assert insert_unless_present(_event("evt_db_3"), lock_timeout="5s") is True
            assert insert_unless_present(_event("evt_db_3"), lock_timeout="5s") is False  # rowcount of the INSERT
        assert len(ctx) == 2
        assert all(q["sql"].startswith("SET LOCAL lock_timeout = '5s'; INSERT") for q in ctx.captured_queries)
        assert _show_lock_timeout() == "5s"
    assert _show_lock_timeout() == before


def test_update_returning_saves_the_fields_and_reads_the_new_row():
    order = make_order()
    order.status = OrderStatus.ON_HOLD
    order.review_reason = "looked at"
    order.customer_name = "Not saved"  # not in update_fields
    value = update_returning(order, update_fields=["status", "review_reason", "updated_at"],
                             returning=Concat(F("status"), Value(":"), F("review_reason"), output_field=TextField()))
    assert value == "ON_HOLD:looked at"
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.review_reason, stored.updated_at) == (OrderStatus.ON_HOLD, "looked at",
                                                                        order.updated_at)
    assert stored.customer_name != "Not saved"


def test_update_returning_a_precompiled_subquery_converts_its_value():
    order = make_order()
    other = make_order()
    waiting = expression_sql(Order, Exists(WebhookEvent.objects.filter(order_id=OuterRef("pk"))), using="default")
    WebhookEvent.objects.create(source="stripe", event_id="evt_db_4", event_type="x", payload={}, order=other)
    assert update_returning(order, update_fields=["updated_at"], returning=waiting) is False
    assert update_returning(other, update_fields=["updated_at"], returning=waiting) is True


def test_update_returning_a_row_that_is_gone_raises():
    order = make_order()
    Order.objects.filter(pk=order.pk).delete()
    with pytest.raises(DatabaseError):
        update_returning(order, update_fields=["status"], returning=F("status"))
