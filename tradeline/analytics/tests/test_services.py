import pytest
from datetime import date

from tradeline.analytics.models import BrokerDailyStats
from tradeline.analytics.services import stats_increment


@pytest.mark.django_db
def test_increments_add_up_on_one_row(make_broker):
    broker = make_broker()
    day = date(2026, 10, 31)
    stats_increment(broker_id=broker.id, day=day, orders_count=1, total_sales=120_000)
    stats_increment(broker_id=broker.id, day=day, orders_count=1, total_sales=5_000, checkout_starts=2)
    row = BrokerDailyStats.objects.get(broker=broker, date=day)
    assert (row.orders_count, row.total_sales, row.checkout_starts) == (2, 125_000, 2)


@pytest.mark.django_db
def test_unknown_counter_is_refused(make_broker):
    with pytest.raises(ValueError):
        stats_increment(broker_id=make_broker().id, bogus=1)
    assert BrokerDailyStats.objects.count() == 0
