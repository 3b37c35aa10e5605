"""Commissions given back by a cancelled (or failed) payout, then refunded or disputed.

Everything goes through the real services: the paid transition, Stripe's cumulative refunds,
the dispute events' services and the payout runs. Each test ends with a reconciliation of the
whole ledger that must find nothing.

Numbers: P = $1,000.00, share 10 %, markup 20 % -> the broker earns 30_000 (10_000 + 20_000) on
a 120_000 charge; a 30_000 refund (a quarter) claws back 7_500 (2_500 + 5_000).
"""

from datetime import timedelta

import pytest

from tradeline.audit.models import ActivityLog
from tradeline.ledger.reconcile import reconcile_run
from tradeline.orders.models import DisputeStatus, Order
from tradeline.payments.services import (
    PaidOutcome,
    order_dispute_closed,
    order_dispute_opened,
    order_payment_record,
    refund_total_apply,
)
from tradeline.payouts.models import (
    AdjustmentStatus,
    CommissionAdjustment,
    CommissionRecord,
    CommissionStatus,
    Payout,
    PayoutStatus,
)
from tradeline.payouts.services import (
    commission_dispute_closed,
    month_period,
    payout_cancel,
    payout_fail,
    payout_mark_paid,
    payout_run_month,
)
from tradeline.testing.concurrency import raised, run_together

pytestmark = pytest.mark.django_db

DEC, JAN, FEB = (2026, 12), (2027, 1), (2027, 2)


@pytest.fixture(autouse=True)
def _payout_settings(settings):
    settings.PAYOUT_MINIMUM_CENTS = 1
    settings.COMMISSION_HOLD_DAYS = 0


@pytest.fixture
def broker(make_broker):
    return make_broker(share="10", markup_percent="20")


def _paid(make_order, broker) -> Order:
    order = make_order(broker=broker, prices=(100_000,))
    assert order_payment_record(order_id=order.pk, amount=order.total_charged, currency="usd", method="STRIPE",
                           payment_intent=f"pi_{order.pk.hex}", charge_id=f"ch_{order.pk.hex}") == PaidOutcome.PAID
    return order


def _run(month: tuple[int, int], broker) -> Payout:
    _, end = month_period(*month)
    (result,) = payout_run_month(year=month[0], month=month[1], broker_id=broker.pk, now=end + timedelta(hours=1))
    assert result.outcome == "created", result
    return result.payout


def _lose(order: Order) -> None:
    assert order_dispute_opened(order_id=order.pk, dispute_id=f"dp_{order.pk.hex}")
    assert order_dispute_closed(order_id=order.pk, won=False, dispute_id=f"dp_{order.pk.hex}", status="lost")


def _commission(order: Order) -> tuple:
    c = CommissionRecord.objects.get(order=order)
    return c.status, c.revenue_share_amount, c.markup_amount, c.total_commission, c.payout_id


def _adjustments(order: Order) -> list[tuple]:
    rows = CommissionAdjustment.objects.filter(order=order).order_by("created_at", "key")
    return [(a.key, a.reason, a.revenue_share_amount, a.markup_amount, a.amount, a.status) for a in rows]


def _assert_balanced() -> None:
    report = reconcile_run(stripe=False)
    assert [d.line() for d in report.discrepancies] == []


def _released_with_own_clawback(make_order, broker, release=payout_cancel) -> tuple[Order, Order]:
    """An order whose commission sat, with its own clawback line, in a payout that was then ended.

    December: an earlier order is paid out, then half refunded (a -15_000 clawback line). January:
    the order is taken by a payout, refunded by a quarter while in it (-7_500, its own clawback);
    that payout is cancelled, the month is run again (the commission and both clawback lines in
    one payout) and that payout is ended too: the commission is PAYABLE again, both lines OPEN.
    """
    earlier = _paid(make_order, broker)
    payout_mark_paid(payout_id=_run(DEC, broker).pk, transaction_id="ach-dec")
    assert refund_total_apply(order_id=earlier.pk, amount_refunded=60_000) == "APPLIED"
    order = _paid(make_order, broker)
    first = _run(JAN, broker)
    assert refund_total_apply(order_id=order.pk, amount_refunded=30_000) == "APPLIED"
    payout_cancel(payout_id=first.pk, reason="wrong account")
    second = _run(JAN, broker)
    assert (second.commission_count, second.adjustment_count, second.total_adjustments) == (1, 2, -22_500)
    release(payout_id=second.pk, reason="wrong account again")
    assert _commission(order) == (CommissionStatus.PAYABLE, 10_000, 20_000, 30_000, None)
    assert _adjustments(order) == [
        (f"refund:{order.pk}:30000", "REFUND", -2_500, -5_000, -7_500, AdjustmentStatus.OPEN)]
    return earlier, order


class TestLostDisputeAfterRelease:
    @pytest.mark.parametrize("release", [payout_cancel, payout_fail], ids=["cancelled", "failed"])
    def test_lost_dispute_claws_back_and_leaves_held(self, make_order, broker, release):
        earlier, order = _released_with_own_clawback(make_order, broker, release)
        _lose(order)
        # Clawed back in full: 7_500 by the refund line, the other 22_500 by a dispute line; the
        # amounts stay (they are settled against those lines) and the commission is no longer HELD.
        assert _commission(order) == (CommissionStatus.PAYABLE, 10_000, 20_000, 30_000, None)
        assert _adjustments(order) == [
            (f"refund:{order.pk}:30000", "REFUND", -2_500, -5_000, -7_500, AdjustmentStatus.OPEN),
            (f"dispute:{order.pk}", "DISPUTE_LOST", -7_500, -15_000, -22_500, AdjustmentStatus.OPEN),
        ]
        _assert_balanced()

        # The next payout nets the order to zero: 30_000 earned, 30_000 clawed back.
        later = _paid(make_order, broker)
        feb = _run(FEB, broker)
        assert (feb.commission_count, feb.total_revenue_share, feb.total_markup) == (2, 20_000, 40_000)
        assert (feb.adjustment_count, feb.total_adjustments, feb.total_amount) == (3, -45_000, 15_000)
        assert set(feb.commissions.values_list("order_id", flat=True)) == {order.pk, later.pk}
        payout_mark_paid(payout_id=feb.pk, transaction_id="ach-feb")
        assert _commission(order)[0] == CommissionStatus.PAID
        assert {a[-1] for a in _adjustments(order)} == {AdjustmentStatus.APPLIED}
        _assert_balanced()

    def test_repeated_lost_close_changes_nothing(self, make_order, broker):
        _, order = _released_with_own_clawback(make_order, broker)
        _lose(order)
        before = (_commission(order), _adjustments(order))
        assert not order_dispute_closed(order_id=order.pk, won=False, dispute_id=f"dp_{order.pk.hex}", status="lost")
        commission_dispute_closed(order=order, won=False)
        assert (_commission(order), _adjustments(order)) == before
        released = ActivityLog.objects.filter(action="commission.released", entity_id=str(CommissionRecord.objects.get(
            order=order).pk))
        assert [log.metadata["reason"] for log in released] == ["dispute lost, clawed back by adjustments"]
        assert ActivityLog.objects.filter(action="commission.dispute_lost").count() == 1
        _assert_balanced()

    def test_a_commission_left_held_is_repaired_by_closing_again(self, make_order, broker):
        """A row left HELD after its lost dispute (clawback adjustments booked, status not moved):
        calling the close again books nothing more and only ends the hold."""
        _, order = _released_with_own_clawback(make_order, broker)
        _lose(order)
        CommissionRecord.objects.filter(order=order).update(status=CommissionStatus.HELD)
        assert [d.code for d in reconcile_run(stripe=False).discrepancies] == ["COMMISSION_STATUS"]
        before = _adjustments(order)
        commission_dispute_closed(order=order, won=False)
        assert _commission(order) == (CommissionStatus.PAYABLE, 10_000, 20_000, 30_000, None)
        assert _adjustments(order) == before
        _assert_balanced()

    def test_dispute_opened_during_the_payout_then_lost_after_release(self, make_order, broker):
        order = _paid(make_order, broker)
        jan = _run(JAN, broker)
        assert refund_total_apply(order_id=order.pk, amount_refunded=30_000) == "APPLIED"
        assert order_dispute_opened(order_id=order.pk, dispute_id="dp_during")
        assert _commission(order)[0] == CommissionStatus.IN_PAYOUT  # in a payout: nothing to hold
        payout_cancel(payout_id=jan.pk)
        assert _commission(order) == (CommissionStatus.HELD, 10_000, 20_000, 30_000, None)
        assert order_dispute_closed(order_id=order.pk, won=False, dispute_id="dp_during", status="lost")
        assert _commission(order) == (CommissionStatus.PAYABLE, 10_000, 20_000, 30_000, None)
        assert sum(a[4] for a in _adjustments(order)) == -30_000
        _assert_balanced()

    def test_full_refund_then_lost_dispute_after_release(self, make_order, broker):
        """Everything was already clawed back by the refund line: the lost dispute books nothing
        more, and the commission still leaves HELD."""
        _, order = _released_with_own_clawback(make_order, broker)
        assert order_dispute_opened(order_id=order.pk, dispute_id="dp_full")
        assert refund_total_apply(order_id=order.pk, amount_refunded=120_000) == "APPLIED"
        assert _commission(order)[0] == CommissionStatus.HELD
        assert order_dispute_closed(order_id=order.pk, won=False, dispute_id="dp_full", status="lost")
        assert _commission(order) == (CommissionStatus.PAYABLE, 10_000, 20_000, 30_000, None)
        assert [(a[0], a[4]) for a in _adjustments(order)] == [
            (f"refund:{order.pk}:30000", -7_500), (f"refund:{order.pk}:120000", -22_500)]
        _assert_balanced()


class TestNeighbours:
    def test_won_dispute_after_release_pays_what_is_left(self, make_order, broker):
        _, order = _released_with_own_clawback(make_order, broker)
        assert order_dispute_opened(order_id=order.pk, dispute_id="dp_won")
        assert _commission(order)[0] == CommissionStatus.HELD
        _assert_balanced()
        assert order_dispute_closed(order_id=order.pk, won=True, dispute_id="dp_won", status="won")
        assert _commission(order) == (CommissionStatus.PAYABLE, 10_000, 20_000, 30_000, None)
        assert [a[0] for a in _adjustments(order)] == [f"refund:{order.pk}:30000"]
        _assert_balanced()
        feb = _run(FEB, broker)  # 30_000 - 7_500 (own refund) - 15_000 (the earlier order's)
        assert (feb.commission_count, feb.adjustment_count, feb.total_amount) == (1, 2, 7_500)
        _assert_balanced()

    def test_refund_after_release_books_only_the_difference(self, make_order, broker):
        _, order = _released_with_own_clawback(make_order, broker)
        assert refund_total_apply(order_id=order.pk, amount_refunded=60_000) == "APPLIED"
        assert refund_total_apply(order_id=order.pk, amount_refunded=60_000) == "UNCHANGED"
        assert _commission(order) == (CommissionStatus.PAYABLE, 10_000, 20_000, 30_000, None)
        assert [(a[0], a[4]) for a in _adjustments(order)] == [
            (f"refund:{order.pk}:30000", -7_500), (f"refund:{order.pk}:60000", -7_500)]
        _assert_balanced()

    @pytest.mark.parametrize("release", [payout_cancel, payout_fail], ids=["cancelled", "failed"])
    def test_release_without_adjustments_then_lost_voids(self, make_order, broker, release):
        order = _paid(make_order, broker)
        jan = _run(JAN, broker)
        assert jan.adjustment_count == 0
        release(payout_id=jan.pk)
        _lose(order)
        assert _commission(order) == (CommissionStatus.VOID, 0, 0, 0, None)
        assert _adjustments(order) == []
        _assert_balanced()

    def test_release_with_only_other_lines_then_lost_voids(self, make_order, broker, admin_user):
        """The cancelled payout held lines of other orders (a clawback) and a manual bonus, none of
        them this commission's: the lost dispute reduces it to zero as before any payout."""
        earlier = _paid(make_order, broker)
        payout_mark_paid(payout_id=_run(DEC, broker).pk, transaction_id="ach-dec")
        assert refund_total_apply(order_id=earlier.pk, amount_refunded=60_000) == "APPLIED"
        CommissionAdjustment.objects.create(broker=broker, amount=1_000, markup_amount=1_000,
                                            reason=CommissionAdjustment.Reason.MANUAL, key=f"manual:{broker.pk}:1",
                                            note="goodwill bonus", created_by=admin_user)
        order = _paid(make_order, broker)
        jan = _run(JAN, broker)
        assert (jan.commission_count, jan.adjustment_count, jan.total_adjustments) == (1, 2, -14_000)
        payout_cancel(payout_id=jan.pk)
        assert Payout.objects.get(pk=jan.pk).status == PayoutStatus.CANCELLED
        _lose(order)
        assert _commission(order) == (CommissionStatus.VOID, 0, 0, 0, None)
        assert _adjustments(order) == []
        assert set(CommissionAdjustment.objects.values_list("status", flat=True)) == {AdjustmentStatus.OPEN}
        _assert_balanced()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_lost_closes_after_release_book_once(make_order, broker):
    _, order = _released_with_own_clawback(make_order, broker)
    assert order_dispute_opened(order_id=order.pk, dispute_id="dp_race")
    order.refresh_from_db()
    order.dispute_status = DisputeStatus.LOST
    order.save(update_fields=["dispute_status", "updated_at"])
    order.payments.filter(role="PAYING").update(dispute_status=DisputeStatus.LOST)  # the record it summarises
    assert raised(run_together([lambda: commission_dispute_closed(order=order, won=False)] * 6)) == []
    assert _commission(order) == (CommissionStatus.PAYABLE, 10_000, 20_000, 30_000, None)
    assert [(a[0], a[4]) for a in _adjustments(order)] == [
        (f"refund:{order.pk}:30000", -7_500), (f"dispute:{order.pk}", -22_500)]
    assert ActivityLog.objects.filter(action="commission.released").count() == 1
    _assert_balanced()
