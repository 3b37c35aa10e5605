"""core.db: INSERT unless present (ON CONFLICT DO NOTHING through bulk_create) and the lock timeout."""

import pytest
from django.db import connection, transaction

from tradeline.core.db import insert_unless_present
from tradeline.payments.models import WebhookEvent

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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_lock_timeout_is_set_for_the_transaction_only():
    before = _show_lock_timeout()
    with transaction.atomic():
        assert insert_unless_present(_event("evt_db_3"), lock_timeout="5s") is True
        assert insert_unless_present(_event("evt_db_3"), lock_timeout="5s") is False
        assert _show_lock_timeout() == "5s"
    assert _show_lock_timeout() == before
