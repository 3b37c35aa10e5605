"""Funnel rates are rates: never above 100 %."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tradeline.analytics.selectors import broker_performance
from tradeline.analytics.services import stats_increment

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


@pytest.mark.django_db
@pytest.mark.parametrize("loads, starts, orders, checkout_rate, conversion", [
    (200, 30, 14, Decimal("15.0"), Decimal("7.0")),
    (14, 14, 14, Decimal("100.0"), Decimal("100.0")),
    (10, 12, 14, Decimal("100.0"), Decimal("100.0")),  # orders through the API without widget loads: not 140 %
    (0, 0, 3, None, None),
])
def test_funnel_rates_never_exceed_one_hundred_percent(make_broker, loads, starts, orders, checkout_rate,
                                                       conversion):
    broker = make_broker()
    stats_increment(broker_id=broker.pk, day=NOW.date(), widget_loads=loads, checkout_starts=starts,
                    orders_count=orders)

    funnel = broker_performance(broker=broker, now=NOW)["funnel"]

    assert (funnel["checkout_rate_percent"], funnel["conversion_percent"]) == (checkout_rate, conversion)


@pytest.mark.django_db
def test_portal_dashboard_shows_no_rate_above_one_hundred_percent(client, make_broker):
    from tradeline.brokers.services import broker_set_password

    broker = make_broker(email="dana@broker.test")
    broker_set_password(broker_id=broker.pk, password="portal-pass-123")
    stats_increment(broker_id=broker.pk, widget_loads=10, orders_count=14)
    client.post("/portal/login/", {"email": "dana@broker.test", "password": "portal-pass-123"})

    html = client.get("/portal/").content.decode()

    assert '<div class="value" id="conversion">100.0%</div>' in html
    assert "10 widget views → 14 orders (some orders came without the widget)" in html
    assert "140" not in html
