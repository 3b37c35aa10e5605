"""The dashboard's Reports page and its CSV show the revenue report's numbers."""

import pytest

from tradeline.brokers.models import AdminRole
from tradeline.payments.services.paid import order_payment_record
from tradeline.testing.factories import make_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(make_admin(role=AdminRole.SUPPORT))
    return client


def _paid(make_order, broker):
    order = make_order(broker=broker)
    order_payment_record(order_id=order.pk, amount=order.total_charged, currency="usd", method="STRIPE",
                    payment_intent=f"pi_{order.pk.hex}")
    return order


def test_page_shows_totals_growth_and_top_brokers(staff_client, make_broker, make_order):
    broker = make_broker(name="Alpha Credit")
    _paid(make_order, broker)
    _paid(make_order, broker)
    page = staff_client.get("/admin/reports/?group_by=broker")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="report-total"' in html and "$2,400.00" in html and "Alpha Credit" in html
    assert page.context["report"]["totals"]["platform_net_revenue"] == 80_000
    csv = staff_client.get("/admin/reports/revenue.csv?group_by=broker").content.decode().splitlines()
    assert csv[1].startswith("Alpha Credit,2,2400.00,")
    assert csv[-1].startswith("TOTAL,2,2400.00,")


def test_day_chart_and_bad_dates(staff_client):
    empty = staff_client.get("/admin/reports/")
    assert empty.status_code == 200 and b"Nothing in this period yet." in empty.content
    bad = staff_client.get("/admin/reports/?start=2026-02-30")
    assert bad.status_code == 400 and b"start must be a date" in bad.content


def test_needs_an_admin(client):
    response = client.get("/admin/reports/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
