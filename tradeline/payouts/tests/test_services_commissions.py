import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeline.audit.models import ActivityLog
from tradeline.orders.models import DisputeStatus
from tradeline.payouts.models import AdjustmentStatus, CommissionAdjustment, CommissionRecord, CommissionStatus
from tradeline.payouts.services import (
    commission_apply_refund,
    commission_create_for_order,
    commission_dispute_closed,
    commission_hold_for_dispute,
)
from tradeline.payouts.services.commissions import refund_clawback, split_clawback
from tradeline.payouts.tests.helpers import mark_paid, paid_order, set_dispute, set_refunded, utc
from tradeline.testing.concurrency import raised, run_together

PAID_AT = utc(2026, 10, 5, 12, 0)


def amounts(order):
    c = CommissionRecord.objects.get(order=order)
    return c.status, c.revenue_share_amount, c.markup_amount, c.total_commission


def set_status(order, status):
    CommissionRecord.objects.filter(order=order).update(status=status)


@pytest.mark.django_db
class TestCreate:
    def test_commission_from_frozen_share_and_markup(self, make_broker):
        order = paid_order(broker=make_broker(), paid_at=PAID_AT)  # P $1000, share 10 %, markup 20 %
        c = CommissionRecord.objects.get(order=order)
        assert (c.original_revenue_share, c.original_markup) == (10_000, 20_000)
        assert amounts(order) == (CommissionStatus.PAYABLE, 10_000, 20_000, 30_000)
        assert c.order_paid_at == PAID_AT
        assert c.broker_id == order.broker_id and c.payout_id is None
        assert ActivityLog.objects.filter(action="commission.created", entity_id=str(c.pk)).count() == 1

    def test_direct_sale_has_no_commission(self, make_order):
        order = mark_paid(make_order(broker=None), paid_at=PAID_AT)
        assert commission_create_for_order(order=order) is None
        assert CommissionRecord.objects.count() == 0

    def test_second_call_returns_the_same_record(self, make_broker):
        order = paid_order(broker=make_broker(), paid_at=PAID_AT)
        first = CommissionRecord.objects.get(order=order)
        again = commission_create_for_order(order=order)
        assert again.pk == first.pk
        assert CommissionRecord.objects.count() == 1
        assert ActivityLog.objects.filter(action="commission.created").count() == 1

    def test_disputed_order_starts_held(self, make_broker, make_order):
        order = mark_paid(make_order(broker=make_broker()), paid_at=PAID_AT)
        set_dispute(order, DisputeStatus.OPEN)
        commission_create_for_order(order=order)
        assert amounts(order) == (CommissionStatus.HELD, 10_000, 20_000, 30_000)

    def test_refund_recorded_before_the_commission_reduces_it_at_once(self, make_broker, make_order):
        order = mark_paid(make_order(broker=make_broker()), paid_at=PAID_AT)
        set_refunded(order, 60_000)
        commission_create_for_order(order=order)
        assert amounts(order) == (CommissionStatus.PAYABLE, 5_000, 10_000, 15_000)


@pytest.mark.django_db
class TestRefundBeforePayout:
    def test_partial_refund_reduces_in_proportion(self, make_broker):
        order = paid_order(broker=make_broker(), paid_at=PAID_AT)  # charged 120_000, earnings 30_000
        commission_apply_refund(order=set_refunded(order, 30_000))
        assert amounts(order) == (CommissionStatus.PAYABLE, 7_500, 15_000, 22_500)
        assert CommissionAdjustment.objects.count() == 0

    def test_same_cumulative_amount_twice_changes_nothing(self, make_broker):
        order = set_refunded(paid_order(broker=make_broker(), paid_at=PAID_AT), 30_000)
        commission_apply_refund(order=order)
        commission_apply_refund(order=order)
        assert amounts(order) == (CommissionStatus.PAYABLE, 7_500, 15_000, 22_500)
        assert ActivityLog.objects.filter(action="commission.reduced").count() == 1

    def test_cumulative_refunds_then_full_refund_voids(self, make_broker):
        order = paid_order(broker=make_broker(), paid_at=PAID_AT)
        commission_apply_refund(order=set_refunded(order, 30_000))
        commission_apply_refund(order=set_refunded(order, 60_000))
        assert amounts(order) == (CommissionStatus.PAYABLE, 5_000, 10_000, 15_000)
        commission_apply_refund(order=set_refunded(order, 120_000))
        assert amounts(order) == (CommissionStatus.VOID, 0, 0, 0)

    def test_rounding_never_exceeds_the_original(self, make_broker):
        # P = $333.33, share 12.5 %, markup 7.5 %: S = 4167, M = 2500, charged 35833.
        broker = make_broker(share="12.5", markup_percent="7.5")
        order = paid_order(broker=broker, paid_at=PAID_AT, prices=(33_333,))
        assert order.total_charged == 35_833
        commission_apply_refund(order=set_refunded(order, 10_000))
        # clawback = round(6667 × 10000 / 35833) = 1861; share piece round(4167 × 1861 / 6667) = 1163
        assert amounts(order) == (CommissionStatus.PAYABLE, 4_167 - 1_163, 2_500 - 698, 6_667 - 1_861)

    def test_no_commission_is_a_no_op(self, make_order):
        order = set_refunded(mark_paid(make_order(broker=None), paid_at=PAID_AT), 1_000)
        commission_apply_refund(order=order)
        assert CommissionRecord.objects.count() == 0 and CommissionAdjustment.objects.count() == 0


@pytest.mark.django_db
class TestRefundAfterPayout:
    @pytest.mark.parametrize("status", [CommissionStatus.IN_PAYOUT, CommissionStatus.PAID])
    def test_refund_books_a_negative_adjustment(self, make_broker, status):
        order = paid_order(broker=make_broker(), paid_at=PAID_AT)
        set_status(order, status)
        commission_apply_refund(order=set_refunded(order, 30_000))
        assert amounts(order) == (status, 10_000, 20_000, 30_000)
        adj = CommissionAdjustment.objects.get()
        assert (adj.revenue_share_amount, adj.markup_amount, adj.amount) == (-2_500, -5_000, -7_500)
        assert adj.key == f"refund:{order.pk}:30000"
        assert adj.reason == CommissionAdjustment.Reason.REFUND and adj.status == AdjustmentStatus.OPEN
        assert adj.broker_id == order.broker_id and adj.commission.order_id == order.pk

    def test_repeats_book_once_and_later_refunds_book_the_difference(self, make_broker):
        order = paid_order(broker=make_broker(), paid_at=PAID_AT)
        set_status(order, CommissionStatus.PAID)
        for _ in range(3):
            commission_apply_refund(order=set_refunded(order, 30_000))
        assert CommissionAdjustment.objects.count() == 1
        commission_apply_refund(order=set_refunded(order, 120_000))
        commission_apply_refund(order=order)
        rows = list(CommissionAdjustment.objects.order_by("amount").values_list("key", "amount"))
        assert rows == [(f"refund:{order.pk}:120000", -22_500), (f"refund:{order.pk}:30000", -7_500)]

    def test_reduction_before_payout_then_refund_after_payout(self, make_broker):
        order = paid_order(broker=make_broker(), paid_at=PAID_AT)
        commission_apply_refund(order=set_refunded(order, 30_000))
        set_status(order, CommissionStatus.PAID)
        commission_apply_refund(order=set_refunded(order, 120_000))
        adj = CommissionAdjustment.objects.get()
        assert (adj.revenue_share_amount, adj.markup_amount, adj.amount) == (-7_500, -15_000, -22_500)
        assert amounts(order) == (CommissionStatus.PAID, 7_500, 15_000, 22_500)


@pytest.mark.django_db
class TestDisputes:
    def test_hold_then_won_releases(self, make_broker):
        order = paid_order(broker=make_broker(), paid_at=PAID_AT)
        commission_hold_for_dispute(order=set_dispute(order, DisputeStatus.OPEN))
        commission_hold_for_dispute(order=order)
        assert amounts(order)[0] == CommissionStatus.HELD
        assert ActivityLog.objects.filter(action="commission.held").count() == 1
        commission_dispute_closed(order=set_dispute(order, DisputeStatus.WON), won=True)
        commission_dispute_closed(order=order, won=True)
        assert amounts(order) == (CommissionStatus.PAYABLE, 10_000, 20_000, 30_000)
        assert ActivityLog.objects.filter(action="commission.released").count() == 1

    def test_lost_before_payout_voids(self, make_broker):
        order = paid_order(broker=make_broker(), paid_at=PAID_AT)
        commission_hold_for_dispute(order=set_dispute(order, DisputeStatus.OPEN))
        commission_dispute_closed(order=set_dispute(order, DisputeStatus.LOST), won=False)
        commission_dispute_closed(order=order, won=False)
        assert amounts(order) == (CommissionStatus.VOID, 0, 0, 0)
        assert CommissionAdjustment.objects.count() == 0
        # A refund arriving afterwards takes nothing more.
        commission_apply_refund(order=set_refunded(order, 120_000))
        assert amounts(order) == (CommissionStatus.VOID, 0, 0, 0)

    def test_hold_after_payout_holds_nothing_and_lost_books_one_adjustment(self, make_broker):
        order = paid_order(broker=make_broker(), paid_at=PAID_AT)
        set_status(order, CommissionStatus.PAID)
        commission_hold_for_dispute(order=set_dispute(order, DisputeStatus.OPEN))
        assert amounts(order)[0] == CommissionStatus.PAID
        commission_dispute_closed(order=set_dispute(order, DisputeStatus.LOST), won=False)
        commission_dispute_closed(order=order, won=False)
        adj = CommissionAdjustment.objects.get()
        assert (adj.key, adj.amount, adj.reason) == (f"dispute:{order.pk}", -30_000, "DISPUTE_LOST")
        commission_apply_refund(order=set_refunded(order, 120_000))
        assert CommissionAdjustment.objects.count() == 1

    def test_lost_after_partial_refund_after_payout_takes_the_rest(self, make_broker):
        order = paid_order(broker=make_broker(), paid_at=PAID_AT)
        set_status(order, CommissionStatus.PAID)
        commission_apply_refund(order=set_refunded(order, 30_000))
        commission_dispute_closed(order=set_dispute(order, DisputeStatus.LOST), won=False)
        total = sum(CommissionAdjustment.objects.values_list("amount", flat=True))
        assert total == -30_000
        assert CommissionAdjustment.objects.get(key=f"dispute:{order.pk}").amount == -22_500

    def test_won_after_payout_changes_nothing(self, make_broker):
        order = paid_order(broker=make_broker(), paid_at=PAID_AT)
        set_status(order, CommissionStatus.IN_PAYOUT)
        commission_dispute_closed(order=set_dispute(order, DisputeStatus.WON), won=True)
        assert amounts(order) == (CommissionStatus.IN_PAYOUT, 10_000, 20_000, 30_000)
        assert CommissionAdjustment.objects.count() == 0


@given(
    share=st.integers(0, 10**9), markup=st.integers(0, 10**9),
    extra=st.integers(0, 10**9), refunded=st.integers(0, 4 * 10**9),
)
def test_clawback_pieces_never_exceed_the_originals_and_add_up(share, markup, extra, refunded):
    charged = share + markup + extra
    if charged == 0:
        return
    claw = refund_clawback(original_share=share, original_markup=markup, amount_refunded=refunded,
                           total_charged=charged)
    assert 0 <= claw.revenue_share <= share and 0 <= claw.markup <= markup
    if refunded >= charged:
        assert claw.total == share + markup
    smaller = refund_clawback(original_share=share, original_markup=markup, amount_refunded=refunded // 2,
                              total_charged=charged)
    assert smaller.total <= claw.total


@given(share=st.integers(0, 10**7), markup=st.integers(0, 10**7), target=st.integers(-5, 3 * 10**7))
def test_split_adds_up_exactly(share, markup, target):
    claw = split_clawback(original_share=share, original_markup=markup, target=target)
    assert claw.total == max(0, min(target, share + markup))
    assert 0 <= claw.revenue_share <= share and 0 <= claw.markup <= markup


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_make_one_commission(make_broker, make_order):
    order = mark_paid(make_order(broker=make_broker()), paid_at=PAID_AT)
    assert raised(run_together([lambda: commission_create_for_order(order=order)] * 8)) == []
    assert CommissionRecord.objects.filter(order=order).count() == 1
    assert ActivityLog.objects.filter(action="commission.created").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refund_signals_book_once(make_broker):
    order = paid_order(broker=make_broker(), paid_at=PAID_AT)
    set_status(order, CommissionStatus.PAID)
    order = set_refunded(order, 30_000)
    assert raised(run_together([lambda: commission_apply_refund(order=order)] * 8)) == []
    assert list(CommissionAdjustment.objects.values_list("amount", flat=True)) == [-7_500]
