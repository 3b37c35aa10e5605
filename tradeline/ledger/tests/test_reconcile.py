"""`tradeline reconcile`: a small ledger built through the real services balances; corrupting one
thing at a time (a raw SQL change the database constraints allow) is reported as exactly that."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tradeline.analytics.models import BrokerDailyStats
from tradeline.ledger.reconcile import CODES, reconcile_run
from tradeline.brokers.models import MarkupType
from tradeline.orders.models import Order, OrderItem
from tradeline.fulfillment.models import SupplierOrder
from tradeline.payments.models import Payment, Refund
from tradeline.payments.services import (
    PaidOutcome,
    manual_payment_record,
    order_checkout_expired,
    order_dispute_closed,
    order_dispute_opened,
    order_payment_record,
    refund_create,
    refund_total_apply,
)
from tradeline.payouts.models import CommissionAdjustment, CommissionRecord, Payout
from tradeline.payouts.services import month_period, payout_cancel, payout_mark_paid, payout_run_month
from tradeline.testing.factories import add_checkout_session

pytestmark = pytest.mark.django_db


@dataclass
class Ledger:
    broker_a: object
    broker_b: object
    paid: Order  # A, paid, commission PAID in payout_a1
    partial: Order  # A, 30 % refunded before its payout: reduced commission, PAID in payout_a1
    refunded_later: Order  # A, paid out, then refunded in part: an adjustment applied by payout_a2
    partial_open: Order  # A, paid after the payouts and half refunded: reduced commission, PAYABLE
    direct: Order  # no broker, paid
    expired: Order  # A, checkout expired, never paid
    pending: Order  # B, waiting for payment
    cash: Order  # B, paid in cash, 10.00 refunded by an admin
    lost: Order  # B, dispute lost before any payout: VOID
    payout_a1: Payout  # COMPLETED
    payout_a2: Payout  # COMPLETED, holds the adjustment
    payout_b: Payout  # CANCELLED, its commissions back to PAYABLE


def _pay(order: Order) -> Order:
    assert order_payment_record(order_id=order.pk, amount=order.total_charged, currency="usd", method="STRIPE",
                           payment_intent=f"pi_{order.pk.hex}", charge_id=f"ch_{order.pk.hex}") == PaidOutcome.PAID
    order.refresh_from_db()
    return order


def _run(year: int, month: int, broker) -> Payout:
    _, end = month_period(year, month)
    (result,) = payout_run_month(year=year, month=month, broker_id=broker.pk, now=end + timedelta(hours=1))
    assert result.outcome == "created"
    return result.payout


@pytest.fixture
def ledger(make_broker, make_order, admin_user, settings) -> Ledger:
    settings.PAYOUT_MINIMUM_CENTS = 1
    settings.COMMISSION_HOLD_DAYS = 0
    a = make_broker(share="12.5", markup_percent="7.5")
    b = make_broker(share="20", markup_type=MarkupType.FIXED, markup_percent="0", markup_fixed=2_500)
    paid = _pay(make_order(broker=a, prices=(33_333,), quantity=3))
    partial = _pay(make_order(broker=a, prices=(100_000, 49_999)))
    refund_total_apply(order_id=partial.pk, amount_refunded=partial.total_charged * 3 // 10)
    refunded_later = _pay(make_order(broker=a, prices=(70_000,)))
    direct = _pay(make_order(prices=(100_000,)))
    expired = make_order(broker=a, prices=(10_000,))
    add_checkout_session(expired, "cs_test_expired")
    assert order_checkout_expired(order_id=expired.pk, session_id="cs_test_expired")
    pending = make_order(broker=b, prices=(20_000,))
    cash = make_order(broker=b, prices=(25_000,))
    manual_payment_record(order_id=cash.pk, method="CASH", reference="receipt 17", admin=admin_user)
    refund_create(order_id=cash.pk, amount=1_000, admin=admin_user, reason="goodwill")
    lost = _pay(make_order(broker=b, prices=(40_000,)))
    assert order_dispute_opened(order_id=lost.pk, dispute_id="dp_1")
    assert order_dispute_closed(order_id=lost.pk, won=False, dispute_id="dp_1", status="lost")

    payout_a1 = payout_mark_paid(payout_id=_run(2027, 1, a).pk, transaction_id="ach-a1")
    payout_b = payout_cancel(payout_id=_run(2027, 1, b).pk, reason="wrong account")
    refund_total_apply(order_id=refunded_later.pk, amount_refunded=20_000)
    _pay(make_order(broker=a, prices=(90_000,)))  # the next month's sale covers the clawback
    payout_a2 = payout_mark_paid(payout_id=_run(2027, 2, a).pk, transaction_id="ach-a2")
    partial_open = _pay(make_order(broker=a, prices=(55_555,), quantity=2))
    refund_total_apply(order_id=partial_open.pk, amount_refunded=partial_open.total_charged // 2)
    return Ledger(a, b, paid, partial, refunded_later, partial_open, direct, expired, pending,
                  Order.objects.get(pk=cash.pk), Order.objects.get(pk=lost.pk), payout_a1, payout_a2, payout_b)


def _sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        assert cursor.rowcount == 1


def _update(model, pk, **values) -> None:
    """One raw UPDATE of one row (the database constraints still apply)."""
    meta = model._meta
    fields = [meta.get_field(name) for name in values]
    sets = ", ".join(f"{f.column} = %s" for f in fields)
    params = [f.get_db_prep_save(value, connection) for f, value in zip(fields, values.values(), strict=True)]
    _sql(f"UPDATE {meta.db_table} SET {sets} WHERE id = %s", [*params, _key(model, pk)])


def _paid_amount(order, amount: int) -> None:
    """The order's paid amount changed on the paying payment and on the order's summary alike."""
    _update(Order, order.pk, amount_paid=amount)
    _update(Payment, Payment.objects.get(order=order, role="PAYING").pk, amount=amount)


def _key(model, pk):
    return model._meta.pk.get_db_prep_value(pk, connection)


def _codes(report) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in report.discrepancies:
        found.setdefault(item.code, []).append(item.ref)
    return found


def test_services_leave_a_balanced_ledger(ledger):
    assert CommissionRecord.objects.get(order=ledger.partial).status == "PAID"
    assert CommissionRecord.objects.get(order=ledger.lost).status == "VOID"
    assert CommissionAdjustment.objects.get(order=ledger.refunded_later).status == "APPLIED"
    assert CommissionRecord.objects.get(order=ledger.partial_open).status == "PAYABLE"
    assert CommissionRecord.objects.get(order=ledger.cash).payout_id is None  # back from the cancelled payout
    assert Refund.objects.get(order=ledger.cash).status == "SUCCEEDED"
    report = reconcile_run(stripe=False)
    assert [d.line() for d in report.discrepancies] == []
    assert report.checked == {"orders": 10, "commissions": 7, "payouts": 3, "brokers": 2}


def _item(order: Order) -> OrderItem:
    return order.items.order_by("base_price").first()


CORRUPTIONS = {
    # name: (how, {code: ref})
    "item_quantity_and_totals": (
        lambda lg: _update(OrderItem, _item(lg.pending).pk, quantity=2, **{
            f: getattr(_item(lg.pending), f) * 2 for f in (
                "total_base", "total_platform_gross", "total_revenue_share", "total_markup", "total_customer_price")}),
        {"ORDER_ITEMS_MISMATCH": "pending"}),
    "frozen_share_percent": (
        lambda lg: _update(Order, lg.pending.pk, revenue_share_percent=Decimal("21.00")),
        {"ITEM_PRICING": "pending"}),
    "paid_amount": (
        lambda lg: _paid_amount(lg.paid, lg.paid.amount_paid + 1),
        {"PAID_SPLIT": "paid"}),
    "summary_differs_from_its_payment": (
        lambda lg: _update(Payment, Payment.objects.get(order=lg.paid, role="PAYING").pk, amount_refunded=1),
        {"PAYMENT_SUMMARY": "paid"}),
    "fulfillment_summary_differs_from_its_supplier_order": (
        lambda lg: _update(SupplierOrder, SupplierOrder.objects.get(order=lg.paid).pk, status="FAILED"),
        {"FULFILLMENT_SUMMARY": "paid"}),
    "excess_payment_never_refunded": (
        lambda lg: Payment.objects.create(order=lg.paid, method="STRIPE", role="EXCESS", status="SUCCEEDED",
                                          amount=lg.paid.total_charged, stripe_payment_intent="pi_paid_twice",
                                          paid_at=lg.paid.paid_at - timedelta(days=1)),
        {"MONEY_KEPT": "paid"}),
    "money_on_expired_order": (
        lambda lg: _update(Order, lg.expired.pk, amount_paid=500),
        {"UNPAID_WITH_MONEY": "expired"}),
    "paid_without_paid_time": (
        lambda lg: _update(Order, lg.direct.pk, paid_at=None),
        {"PAID_WITHOUT_MONEY": "direct"}),
    "refund_status": (
        lambda lg: (_update(Order, lg.partial_open.pk, payment_status="SUCCEEDED"),
                    _update(Payment, Payment.objects.get(order=lg.partial_open, role="PAYING").pk, status="SUCCEEDED")),
        {"REFUND_STATE": "partial_open"}),
    "local_refund_amount": (
        lambda lg: _update(Refund, Refund.objects.get(order=lg.cash).pk, amount=5_000),
        {"LOCAL_REFUNDS_EXCEED": "cash"}),
    "completed_without_supplier_order": (
        lambda lg: _update(Order, lg.paid.pk, status="COMPLETED"),
        {"ORDER_STATUS": "paid"}),
    "direct_sale_with_share": (
        lambda lg: _update(Order, lg.direct.pk, broker_revenue_share=100,
                           platform_net_revenue=lg.direct.platform_net_revenue - 100),
        {"DIRECT_SALE_EARNINGS": "direct", "ORDER_ITEMS_MISMATCH": "direct"}),
    "commission_deleted": (
        lambda lg: _sql(f"DELETE FROM {CommissionRecord._meta.db_table} WHERE order_id = %s",
                        [_key(Order, lg.partial_open.pk)]),
        {"MISSING_COMMISSION": "partial_open"}),
    "commission_for_unpaid_order": (
        lambda lg: CommissionRecord.objects.create(
            broker=lg.broker_b, order=lg.pending, original_revenue_share=lg.pending.broker_revenue_share,
            original_markup=lg.pending.broker_markup, revenue_share_amount=lg.pending.broker_revenue_share,
            markup_amount=lg.pending.broker_markup,
            total_commission=lg.pending.broker_revenue_share + lg.pending.broker_markup,
            order_paid_at=lg.paid.paid_at),
        {"UNEXPECTED_COMMISSION": "pending"}),
    "commission_of_another_broker": (
        lambda lg: _update(CommissionRecord, lg.partial_open.commission.pk, broker=lg.broker_b.pk),
        {"COMMISSION_ORDER_MISMATCH": "partial_open"}),
    "commission_not_reduced_enough": (
        lambda lg: _update(CommissionRecord, lg.partial_open.commission.pk,
                           revenue_share_amount=lg.partial_open.commission.revenue_share_amount + 1,
                           total_commission=lg.partial_open.commission.total_commission + 1),
        {"COMMISSION_CLAWBACK": "partial_open"}),
    "commission_held_without_dispute": (
        lambda lg: _update(CommissionRecord, lg.partial_open.commission.pk, status="HELD"),
        {"COMMISSION_STATUS": "partial_open"}),
    "adjustment_back_in_payout": (
        lambda lg: _update(CommissionAdjustment, CommissionAdjustment.objects.get(order=lg.refunded_later).pk,
                           status="IN_PAYOUT"),
        {"ADJUSTMENT_STATUS": "adjustment"}),
    "payout_count": (
        lambda lg: _update(Payout, lg.payout_a1.pk, commission_count=lg.payout_a1.commission_count + 1),
        {"PAYOUT_LINES": "payout_a1"}),
    "payout_paid_more_than_its_lines": (
        lambda lg: _update(Payout, lg.payout_a1.pk, total_markup=lg.payout_a1.total_markup + 100,
                           total_amount=lg.payout_a1.total_amount + 100),
        {"PAYOUT_LINES": "payout_a1", "BROKER_LEDGER": "broker_a"}),
    "line_in_a_cancelled_payout": (
        lambda lg: _update(CommissionRecord, lg.cash.commission.pk, payout=lg.payout_b.pk),
        {"PAYOUT_DEAD_LINES": "payout_b", "COMMISSION_STATUS": "cash"}),
    "line_paid_after_the_period": (
        lambda lg: _update(CommissionRecord, lg.paid.commission.pk,
                           order_paid_at=lg.payout_a1.period_end + timedelta(days=1)),
        {"PAYOUT_LINE_OWNER": "payout_a1", "COMMISSION_ORDER_MISMATCH": "paid"}),
    "analytics_sales": (
        lambda lg: _update(BrokerDailyStats, BrokerDailyStats.objects.get(broker=lg.broker_b).pk,
                           total_sales=1),
        {"ANALYTICS_MISMATCH": "broker_b"}),
}


def _ref(ledger: Ledger, name: str) -> str:
    if name == "adjustment":
        return CommissionAdjustment.objects.get(order=ledger.refunded_later).key
    value = getattr(ledger, name)
    if isinstance(value, Order):
        return value.order_number
    return str(value.pk)


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_one_corruption_is_reported_as_exactly_that(ledger, name):
    corrupt, expected = CORRUPTIONS[name]
    corrupt(ledger)
    report = reconcile_run(stripe=False)
    assert _codes(report) == {code: [_ref(ledger, ref)] for code, ref in expected.items()}
    assert report.total == len(expected)


def test_every_database_code_is_exercised():
    stripe_codes = {code for code in CODES if code.startswith("STRIPE_")}
    unreachable = {"REFUND_EXCEEDS_PAID", "ORDER_NO_ITEMS", "BROKER_LEDGER"}  # CHECK constraints / summary
    exercised = {code for _, expected in CORRUPTIONS.values() for code in expected}
    exercised |= {"TRANSFER_RECORD", "TRANSFER_UNSETTLED"}  # need a sent payout: test_reconcile_transfers.py
    assert set(CODES) - stripe_codes - unreachable <= exercised
    assert "BROKER_LEDGER" in exercised


def test_order_without_items_is_reported(ledger):
    _sql(f"DELETE FROM {OrderItem._meta.db_table} WHERE order_id = %s", [_key(Order, ledger.pending.pk)])
    report = reconcile_run(stripe=False)
    assert _codes(report) == {"ORDER_NO_ITEMS": [ledger.pending.order_number]}


def test_since_limits_the_order_checks(ledger):
    _update(Order, ledger.pending.pk, revenue_share_percent=Decimal("21.00"),
            created_at=ledger.pending.created_at - timedelta(days=40))
    since = (ledger.paid.created_at - timedelta(days=1)).date()
    assert reconcile_run(since=since, stripe=False).total == 0
    assert _codes(reconcile_run(stripe=False)) == {"ITEM_PRICING": [ledger.pending.order_number]}


# -- the command ---------------------------------------------------------------------------------


def test_command_prints_a_summary_and_exits_0_when_balanced(ledger, capsys):
    call_command("reconcile", "--skip-stripe")
    out = capsys.readouterr().out
    assert "commission clawbacks vs refunds and disputes: 0 discrepancies" in out
    assert out.strip().splitlines()[-1].startswith("0 discrepancies in 10 orders, 7 commissions, 3 payouts, 2 brokers")


def test_command_prints_each_discrepancy_and_exits_1(ledger, capsys):
    _paid_amount(ledger.paid, ledger.paid.amount_paid + 1)
    _update(Order, ledger.expired.pk, amount_paid=500)
    with pytest.raises(CommandError) as error:
        call_command("reconcile", "--skip-stripe", "--quiet")
    assert error.value.returncode == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert sorted(lines[:-1]) == sorted([
        f"DISCREPANCY PAID_SPLIT order {ledger.paid.order_number}: paid {ledger.paid.amount_paid + 1} != supplier "
        f"cost {ledger.paid.supplier_cost} + platform net {ledger.paid.platform_net_revenue} + broker earnings "
        f"{ledger.paid.broker_earnings} (= {ledger.paid.total_charged})",
        f"DISCREPANCY UNPAID_WITH_MONEY order {ledger.expired.order_number}: payment CANCELLED but paid 500, "
        "refunded 0",
    ])
    assert lines[-1].startswith("2 discrepancies (PAID_SPLIT 1, UNPAID_WITH_MONEY 1) in 10 orders")


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "01/11/2026"])
def test_command_refuses_a_bad_since(db, value):
    with pytest.raises(CommandError, match="--since"):
        call_command("reconcile", "--skip-stripe", "--since", value)
