from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

import pytest

from tradeline.analytics.models import BrokerDailyStats, VisitorDay, VisitorSalt
from tradeline.analytics.selectors import broker_funnel, funnel_steps
from tradeline.analytics.services import stats_increment, visitor_hash, widget_load_record
from tradeline.brokers.services import broker_keys_rotate

UA_PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"
UA_DESKTOP = "Mozilla/5.0 (X11; Linux x86_64)"


pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.fixture
def key(make_broker):
    broker = make_broker()
    return broker, broker_keys_rotate(broker_id=broker.pk)["publishable_key"]


@pytest.mark.django_db
def test_a_visitor_counts_once_a_day_and_nothing_identifying_is_stored(client, key):
    broker, publishable = key
    for address, agent in [("203.0.113.7", UA_PHONE), ("203.0.113.7", UA_PHONE), ("203.0.113.7", UA_DESKTOP),
                           ("198.51.100.20", UA_PHONE)]:
        response = client.post("/api/analytics/widget-load", HTTP_X_API_KEY=publishable, REMOTE_ADDR=address,
                               HTTP_USER_AGENT=agent)
        assert response.status_code == 204
    row = BrokerDailyStats.objects.get(broker=broker)
    assert (row.widget_loads, row.unique_visitors) == (4, 3)
    stored = list(VisitorDay.objects.values_list("visitor_hash", flat=True))
    assert len(stored) == 3 and all(len(h) == 64 for h in stored)
    assert not any("203.0.113.7" in h or "198.51.100.20" in h for h in stored)
    # No cookie is set on the visitor.
    response = client.post("/api/analytics/widget-load", HTTP_X_API_KEY=publishable, REMOTE_ADDR="192.0.2.1")
    assert response.cookies == {} or not response.cookies


@pytest.mark.django_db
def test_the_salt_rotates_daily_and_old_days_are_forgotten(key):
    broker, _ = key
    today = date(2026, 12, 2)
    first = visitor_hash(broker_id=broker.pk, day=today, client_ip="203.0.113.7", user_agent=UA_PHONE)
    assert visitor_hash(broker_id=broker.pk, day=today, client_ip="203.0.113.7", user_agent=UA_PHONE) == first
    VisitorDay.objects.create(broker=broker, date=today, visitor_hash="x" * 64)
    tomorrow = visitor_hash(broker_id=broker.pk, day=today + timedelta(days=1), client_ip="203.0.113.7",
                            user_agent=UA_PHONE)
    assert tomorrow != first
    assert list(VisitorSalt.objects.values_list("date", flat=True)) == [today + timedelta(days=1)]
    assert VisitorDay.objects.count() == 0


@pytest.mark.django_db
def test_another_brokers_widget_sees_a_new_visitor(make_broker):
    one, two = make_broker(), make_broker()
    widget_load_record(broker_id=one.pk, client_ip="203.0.113.7", user_agent=UA_PHONE)
    widget_load_record(broker_id=two.pk, client_ip="203.0.113.7", user_agent=UA_PHONE)
    assert sorted(BrokerDailyStats.objects.values_list("unique_visitors", flat=True)) == [1, 1]


@pytest.mark.django_db
def test_cart_add_event_is_counted(client, key):
    broker, publishable = key
    for _ in range(2):
        response = client.post("/api/analytics/widget-event", {"event": "cart_add"}, content_type="application/json",
                               HTTP_X_API_KEY=publishable)
        assert response.status_code == 204
    assert BrokerDailyStats.objects.get(broker=broker).cart_adds == 2


@pytest.mark.django_db
def test_unknown_event_is_a_422_and_counts_nothing(client, key):
    _, publishable = key
    response = client.post("/api/analytics/widget-event", {"event": "purchase"}, content_type="application/json",
                           HTTP_X_API_KEY=publishable)
    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert client.post("/api/analytics/widget-event", {"event": "cart_add"},
                       content_type="application/json").status_code == 401
    assert BrokerDailyStats.objects.count() == 0


@pytest.mark.django_db
def test_funnel_rates_and_the_100_percent_cap(make_broker):
    broker = make_broker()
    now = datetime(2026, 12, 2, 12, tzinfo=dt_timezone.utc)
    stats_increment(broker_id=broker.pk, day=date(2026, 12, 1), widget_loads=200, unique_visitors=120, cart_adds=30,
                    checkout_starts=12, orders_count=3)
    stats_increment(broker_id=broker.pk, day=date(2026, 12, 2), orders_count=2)  # sold with the secret key
    stats_increment(broker_id=broker.pk, day=date(2026, 10, 1), widget_loads=1000)  # outside 30 days
    funnel = broker_funnel(broker=broker, now=now)
    assert (funnel["widget_loads"], funnel["unique_visitors"], funnel["cart_adds"], funnel["checkout_starts"],
            funnel["orders"]) == (200, 120, 30, 12, 5)
    assert funnel["conversion_percent"] == Decimal("2.5")
    assert [(s["key"], s["of_views_percent"], s["of_previous_percent"]) for s in funnel["steps"]] == [
        ("widget_loads", Decimal("100.0"), None), ("unique_visitors", Decimal("60.0"), Decimal("60.0")),
        ("cart_adds", Decimal("15.0"), Decimal("25.0")), ("checkout_starts", Decimal("6.0"), Decimal("40.0")),
        ("orders", Decimal("2.5"), Decimal("41.7")),
    ]
    lopsided = funnel_steps({"widget_loads": 2, "unique_visitors": 2, "cart_adds": 1, "checkout_starts": 1, "orders": 7})
    assert lopsided[-1]["of_views_percent"] == Decimal(100) and lopsided[-1]["of_previous_percent"] == Decimal(100)
    assert funnel_steps({})[0]["of_views_percent"] is None


@pytest.mark.django_db
def test_funnel_is_on_the_portal_dashboard_and_admin_broker_page(client, make_broker, admin_client):
    from tradeline.brokers.services import broker_set_password

    broker = make_broker(email="fun@broker.test")
    broker_set_password(broker_id=broker.pk, password="funnel-pass-123")
    stats_increment(broker_id=broker.pk, widget_loads=40, unique_visitors=25, cart_adds=8, checkout_starts=4,
                    orders_count=2)
    assert client.post("/portal/login/", {"email": "fun@broker.test", "password": "funnel-pass-123"}).status_code == 302
    html = client.get("/portal/").content.decode()
    assert 'id="funnel"' in html and '<td class="num" data-count>25</td>' in html
    assert '<strong id="funnel-conversion">5.0%</strong>' in html
    admin_html = admin_client.get(f"/admin/brokers/broker/{broker.pk}/change/").content.decode()
    assert '<strong id="funnel-conversion">5.0%</strong>' in admin_html
    other = make_broker()
    stats_increment(broker_id=other.pk, widget_loads=60, unique_visitors=30, cart_adds=2, checkout_starts=1,
                    orders_count=0)
    overview = admin_client.get("/admin/").content.decode()
    assert 'id="platform-funnel"' in overview and '<strong id="funnel-conversion">2.0%</strong>' in overview
    assert '<td class="num" data-count>55</td>' in overview  # unique visitors of both brokers
