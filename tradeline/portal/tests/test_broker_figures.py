"""What a broker is shown about its orders (issue 14, items 3 and 5): earnings from the commission
ledger everywhere — API list and detail, portal list and detail, the earnings endpoint, the sale
email — and never our margins (supplier cost, platform commission, platform net revenue)."""

import re

import pytest
from django.core import mail
from django.core.cache import cache

from tradeline.brokers.services import broker_keys_rotate, broker_set_password
from tradeline.fulfillment.emails import send_order_completed
from tradeline.orders.models import DisputeStatus, Order, OrderStatus
from tradeline.orders.selectors import earned_totals
from tradeline.payouts.services import (
    commission_apply_refund,
    commission_dispute_closed,
    payout_create_monthly,
    payout_mark_paid,
)
from tradeline.payouts.tests.helpers import paid_order, set_dispute, set_refunded, utc

PASSWORD = "portal-pass-12345"
INTERNAL = ("supplier_cost", "platform_gross", "platform_net", "platform_commission_percent")


@pytest.fixture
def book(make_broker, make_order):
    """One broker's orders ($1,200.00 each, $300.00 of earnings at sale) in every state, and what
    the ledger says each one earns."""
    cache.clear()
    broker = make_broker(email="dana@broker.test", share="10", markup_percent="20")
    broker_set_password(broker_id=broker.pk, password=PASSWORD)
    paid_out = paid_order(broker=broker, paid_at=utc(2026, 7, 10))
    payout_mark_paid(payout_id=payout_create_monthly(broker=broker, year=2026, month=7).pk, transaction_id="ACH-7")
    commission_apply_refund(order=set_refunded(paid_out, 60_000))  # after payout: a -$150.00 adjustment
    full = paid_order(broker=broker, paid_at=utc(2026, 8, 2))
    commission_apply_refund(order=set_refunded(full, 120_000))
    partial = paid_order(broker=broker, paid_at=utc(2026, 8, 3))
    commission_apply_refund(order=set_refunded(partial, 30_000))
    lost = paid_order(broker=broker, paid_at=utc(2026, 8, 4))
    commission_dispute_closed(order=set_dispute(lost, DisputeStatus.LOST), won=False)
    clean = paid_order(broker=broker, paid_at=utc(2026, 8, 5))
    unpaid = make_order(broker=broker)
    failed = make_order(broker=broker, status=OrderStatus.FAILED)
    expected = {paid_out.pk: 15_000, full.pk: 0, partial.pk: 22_500, lost.pk: 0, clean.pk: 30_000,
                unpaid.pk: 0, failed.pk: 0}
    keys = broker_keys_rotate(broker_id=broker.pk)
    yield broker, keys["secret_key"], expected
    cache.clear()


@pytest.mark.django_db
def test_api_list_and_detail_show_ledger_earnings_and_no_margins(client, book):
    broker, secret, expected = book
    body = client.get("/api/orders/broker?limit=100", HTTP_X_API_KEY=secret).json()
    assert {row["id"]: row["broker_earnings"] for row in body["orders"]} == {str(k): v for k, v in expected.items()}
    assert body["summary"]["commission"] == 67_500
    assert (body["summary"]["revenue_share"], body["summary"]["markup"]) == (22_500, 45_000)
    assert "platform_net_revenue" not in body["summary"]
    for order_id, earned in expected.items():
        detail = client.get(f"/api/orders/{order_id}", HTTP_X_API_KEY=secret).json()
        assert detail["broker_earnings"] == earned, order_id
        assert detail["earned_revenue_share"] + detail["earned_markup"] == earned
        text = str(detail)
        for name in INTERNAL:
            assert name not in text, name
    earnings = client.get("/api/brokers/me/earnings", HTTP_X_API_KEY=secret).json()
    assert (earnings["pending"] + earnings["held"] + earnings["in_payout"] + earnings["paid"]
            + earnings["open_adjustments"]) == 67_500


@pytest.mark.django_db
def test_portal_you_earn_column_and_order_page_come_from_the_ledger(client, book):
    broker, _, expected = book
    assert client.post("/portal/login/", {"email": "dana@broker.test", "password": PASSWORD}).status_code == 302
    html = client.get("/portal/orders/").content.decode()
    shown = {}
    for order_id, earned in expected.items():
        page = client.get(f"/portal/orders/{order_id}/").content.decode()
        you_earn = re.search(r'<strong id="you-earn">([^<]*)</strong>', page).group(1)
        shown[order_id] = you_earn
        assert "Supplier" not in page and "supplier" not in page and "Platform" not in page
    assert shown == {k: f"${v / 100:,.2f}" for k, v in expected.items()}
    cells = re.findall(r'<td class="num">([^<]*)</td>\s*</tr>', html)
    assert sorted(cells) == sorted(f"${v / 100:,.2f}" for v in expected.values())


@pytest.mark.django_db
def test_sale_email_states_the_ledger_earnings(book, settings):
    broker, _, expected = book
    partial = next(k for k, v in expected.items() if v == 22_500)
    mail.outbox.clear()
    send_order_completed(order_id=partial)
    notice = next(m for m in mail.outbox if broker.email in m.to)
    assert "Your earnings:    $225.00" in notice.body
    assert "500.00" not in notice.body  # the supplier's half of $1,000.00


@pytest.mark.django_db
def test_broker_schemas_have_no_margin_fields(client):
    schemas = client.get("/api/openapi.json").json()["components"]["schemas"]
    for name in ("OrderDetailOut", "OrderItemOut", "BrokerBreakdownOut", "OrderRowOut", "SummaryOut"):
        fields = set(schemas[name]["properties"])
        assert not {f for f in fields if f.startswith(("supplier_cost", "platform_"))}, name
    assert "platform_net_revenue" in schemas["AdminSummaryOut"]["properties"]


@pytest.mark.django_db
def test_ledger_sums_read_by_the_broker_index_equal_the_plain_join(book, make_broker):
    broker, _, expected = book
    other = make_broker()
    commission_apply_refund(order=set_refunded(paid_order(broker=other, paid_at=utc(2026, 8, 6)), 60_000))
    mine = Order.objects.filter(broker=broker)
    assert earned_totals(mine, broker_id=broker.pk) == earned_totals(mine)
    assert earned_totals(mine, broker_id=broker.pk)["total"] == sum(expected.values())
    august = mine.filter(paid_at__gte=utc(2026, 8, 1))
    assert earned_totals(august, broker_id=broker.pk) == earned_totals(august) == {
        "revenue_share": 7_500 + 10_000, "markup": 15_000 + 20_000, "total": 22_500 + 30_000}
