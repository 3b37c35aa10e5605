"""Races on real PostgreSQL: the broker row lock serialises changes to one broker."""

import pytest

from tradeline.brokers import services
from tradeline.brokers.auth import broker_for_key
from tradeline.brokers.models import Broker, BrokerApiKey, BrokerStatus
from tradeline.core.errors import Conflict
from tradeline.testing.concurrency import run_together


def _race(n, fn):
    """`fn` called `n` times at once: ("ok", result) or ("conflict", code) each; any other error fails."""
    outcomes = []
    for result in run_together([fn] * n):
        if isinstance(result, Conflict):
            outcomes.append(("conflict", result.code))
        elif isinstance(result, BaseException):
            raise result
        else:
            outcomes.append(("ok", result))
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_rotations_leave_exactly_one_live_key_per_kind():
    broker = Broker.objects.create(name="Race", email="race@example.com", status=BrokerStatus.ACTIVE)
    results = _race(6, lambda: services.broker_keys_rotate(broker_id=broker.pk))
    assert [status for status, _ in results] == ["ok"] * 6
    live = BrokerApiKey.objects.filter(broker=broker, revoked_at__isnull=True)
    assert sorted(live.values_list("kind", flat=True)) == ["PUBLISHABLE", "SECRET"]
    assert BrokerApiKey.objects.filter(broker=broker).count() == 12
    working = [issued for _, issued in results if broker_for_key(issued["secret_key"]) is not None]
    assert len(working) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_approve_once():
    broker = Broker.objects.create(name="Race", email="race2@example.com")
    results = _race(5, lambda: services.broker_approve(broker_id=broker.pk).status)
    assert sorted(results) == [("conflict", "INVALID_BROKER_TRANSITION")] * 4 + [("ok", BrokerStatus.ACTIVE)]
    from tradeline.audit.models import ActivityLog

    assert ActivityLog.objects.filter(action="broker.approved", entity_id=str(broker.pk)).count() == 1
