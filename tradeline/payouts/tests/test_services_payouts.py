import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tradeline.audit.models import ActivityLog
from tradeline.core.errors import Conflict, ValidationFailed
from tradeline.orders.models import DisputeStatus, Order, OrderStatus
from tradeline.payouts.models import (
    AdjustmentStatus,
    CommissionAdjustment,
    CommissionRecord,
    CommissionStatus,
    Payout,
    PayoutStatus,
)
from tradeline.payouts.selectors import broker_earnings, payout_report, payout_report_csv
from tradeline.payouts.services import (
    commission_apply_refund,
    commission_dispute_closed,
    commission_hold_for_dispute,
    payout_cancel,
    payout_create_monthly,
    payout_fail,
    payout_mark_paid,
    payout_run_month,
)
from tradeline.payouts.tests.helpers import paid_order, set_dispute, set_refunded, utc
from tradeline.testing.concurrency import raised, run_together

AUG = (2026, 8)
SEP = (2026, 9)


def create(broker, ym, **kw):
    return payout_create_monthly(broker=broker, year=ym[0], month=ym[1], **kw)


def commission(order):
    return CommissionRecord.objects.get(order=order)


def refunded_after_july_payout(broker, amount_refunded: int):
    """A July order paid out (the July payout marked paid), then refunded: the clawback is left open."""
    order = paid_order(broker=broker, paid_at=utc(2026, 7, 10))
    july = payout_create_monthly(broker=broker, year=2026, month=7)
    payout_mark_paid(payout_id=july.pk, transaction_id="ACH-7")
    commission_apply_refund(order=set_refunded(order, amount_refunded))
    return order


@pytest.mark.django_db
class TestCreateMonthly:
    def test_only_paid_unrefunded_orders_count(self, make_broker, make_order):
        broker = make_broker()
        make_order(broker=broker)  # never paid: no commission
        make_order(broker=broker, status=OrderStatus.CANCELLED)
        refunded = paid_order(broker=broker, paid_at=utc(2026, 8, 3))
        commission_apply_refund(order=set_refunded(refunded, refunded.total_charged))
        kept = paid_order(broker=broker, paid_at=utc(2026, 8, 4))
        payout = create(broker, AUG)
        assert (payout.total_revenue_share, payout.total_markup, payout.total_adjustments, payout.total_amount) == (
            10_000, 20_000, 0, 30_000)
        assert payout.commission_count == 1 and payout.status == PayoutStatus.PENDING
        assert list(payout.commissions.values_list("order_id", flat=True)) == [kept.pk]
        assert commission(refunded).status == CommissionStatus.VOID and commission(refunded).payout_id is None
        assert (payout.period_start, payout.period_end) == (utc(2026, 8, 1), utc(2026, 9, 1))

    def test_partial_refund_reduces_the_payout_exactly(self, make_broker):
        broker = make_broker()
        order = paid_order(broker=broker, paid_at=utc(2026, 8, 10))
        commission_apply_refund(order=set_refunded(order, 30_000))
        payout = create(broker, AUG)
        assert (payout.total_revenue_share, payout.total_markup, payout.total_amount) == (7_500, 15_000, 22_500)

    def test_refund_after_payout_is_deducted_from_the_next_payout(self, make_broker, admin_user):
        broker = make_broker()
        first = paid_order(broker=broker, paid_at=utc(2026, 8, 10))
        paid_order(broker=broker, paid_at=utc(2026, 8, 11))
        aug = create(broker, AUG)
        assert aug.total_amount == 60_000
        payout_mark_paid(payout_id=aug.pk, transaction_id="ACH-1", actor_user=admin_user)
        commission_apply_refund(order=set_refunded(first, 30_000))  # a quarter: 7_500 back
        paid_order(broker=broker, paid_at=utc(2026, 9, 2))
        sep = create(broker, SEP)
        assert (sep.total_revenue_share, sep.total_markup, sep.total_adjustments, sep.total_amount) == (
            10_000, 20_000, -7_500, 22_500)
        assert (sep.commission_count, sep.adjustment_count) == (1, 1)
        assert CommissionAdjustment.objects.get().payout_id == sep.pk
        aug.refresh_from_db()
        assert aug.total_amount == 60_000 and commission(first).total_commission == 30_000

    def test_same_period_twice_gives_one_payout(self, make_broker):
        broker = make_broker()
        paid_order(broker=broker, paid_at=utc(2026, 8, 10))
        first = create(broker, AUG)
        again = create(broker, AUG)
        assert again.pk == first.pk
        assert Payout.objects.count() == 1
        assert ActivityLog.objects.filter(action="payout.created").count() == 1

    def test_utc_month_boundaries(self, make_broker):
        broker = make_broker()
        last_moment = paid_order(broker=broker, paid_at=utc(2026, 8, 31, 23, 59, 59, 999_000))
        first_moment = paid_order(broker=broker, paid_at=utc(2026, 9, 1, 0, 0, 0))
        aug = create(broker, AUG)
        assert list(aug.commissions.values_list("order_id", flat=True)) == [last_moment.pk]
        assert commission(first_moment).status == CommissionStatus.PAYABLE
        sep = create(broker, SEP)
        assert list(sep.commissions.values_list("order_id", flat=True)) == [first_moment.pk]

    def test_below_minimum_carries_over(self, make_broker, settings):
        settings.PAYOUT_MINIMUM_CENTS = 50_000
        broker = make_broker()
        early = paid_order(broker=broker, paid_at=utc(2026, 7, 20))  # an earlier month's leftover
        assert create(broker, AUG) is None
        assert Payout.objects.count() == 0
        assert (commission(early).status, commission(early).payout_id) == (CommissionStatus.PAYABLE, None)
        paid_order(broker=broker, paid_at=utc(2026, 9, 5))
        sep = create(broker, SEP)
        assert (sep.total_amount, sep.commission_count) == (60_000, 2)

    def test_clawbacks_larger_than_earnings_carry_over(self, make_broker):
        broker = make_broker()
        big = paid_order(broker=broker, paid_at=utc(2026, 7, 10), prices=(200_000,))
        july = payout_create_monthly(broker=broker, year=2026, month=7)
        payout_mark_paid(payout_id=july.pk, transaction_id="ACH-7")
        commission_apply_refund(order=set_refunded(big, big.total_charged))  # -60_000 open
        paid_order(broker=broker, paid_at=utc(2026, 8, 10))  # +30_000
        assert create(broker, AUG) is None
        assert CommissionAdjustment.objects.get().status == AdjustmentStatus.OPEN
        for day in (1, 2, 3):
            paid_order(broker=broker, paid_at=utc(2026, 9, day))
        sep = create(broker, SEP)
        assert (sep.total_amount, sep.total_adjustments, sep.commission_count) == (60_000, -60_000, 4)

    def test_held_commission_waits_until_released(self, make_broker):
        broker = make_broker()
        disputed = paid_order(broker=broker, paid_at=utc(2026, 8, 10))
        paid_order(broker=broker, paid_at=utc(2026, 8, 11))
        commission_hold_for_dispute(order=set_dispute(disputed, DisputeStatus.OPEN))
        assert create(broker, AUG).total_amount == 30_000
        commission_dispute_closed(order=set_dispute(disputed, DisputeStatus.WON), won=True)
        sep = create(broker, SEP)
        assert list(sep.commissions.values_list("order_id", flat=True)) == [disputed.pk]

    def test_hold_days(self, make_broker, settings):
        settings.COMMISSION_HOLD_DAYS = 10
        broker = make_broker()
        paid_order(broker=broker, paid_at=utc(2026, 8, 5))
        young = paid_order(broker=broker, paid_at=utc(2026, 8, 30))
        payout = create(broker, AUG, now=utc(2026, 9, 3))
        assert payout.commission_count == 1
        assert commission(young).status == CommissionStatus.PAYABLE

    def test_month_not_ended_is_a_conflict(self, make_broker):
        broker = make_broker()
        now = timezone.now()
        paid_order(broker=broker, paid_at=now - timedelta(minutes=1))
        with pytest.raises(Conflict) as exc:
            payout_create_monthly(broker=broker, year=now.year, month=now.month)
        assert (exc.value.code, exc.value.status) == ("PERIOD_NOT_ENDED", 409)
        assert Payout.objects.count() == 0
        assert CommissionRecord.objects.get().status == CommissionStatus.PAYABLE

    @pytest.mark.parametrize("year,month", [(2026, 0), (2026, 13), (1999, 5)])
    def test_invalid_month(self, make_broker, year, month):
        with pytest.raises(ValidationFailed):
            payout_create_monthly(broker=make_broker(), year=year, month=month)


@pytest.mark.django_db
class TestTransitions:
    def _payout(self, make_broker):
        broker = make_broker()
        refunded_after_july_payout(broker, 60_000)  # -15_000 open
        paid_order(broker=broker, paid_at=utc(2026, 8, 10))
        paid_order(broker=broker, paid_at=utc(2026, 8, 11))
        return broker, create(broker, AUG)

    def test_mark_paid(self, make_broker, admin_user):
        broker, payout = self._payout(make_broker)
        assert payout.total_amount == 45_000
        done = payout_mark_paid(payout_id=payout.pk, transaction_id=" ACH-8 ", notes="wire", actor_user=admin_user)
        assert (done.status, done.transaction_id, done.notes, done.processed_by) == (
            PayoutStatus.COMPLETED, "ACH-8", "wire", admin_user)
        assert set(payout.commissions.values_list("status", flat=True)) == {CommissionStatus.PAID}
        assert payout.commissions.filter(paid_at__isnull=True).count() == 0
        assert set(payout.adjustments.values_list("status", flat=True)) == {AdjustmentStatus.APPLIED}
        log = ActivityLog.objects.get(action="payout.completed", entity_id=str(payout.pk))
        assert log.actor_user == admin_user and log.metadata["transaction_id"] == "ACH-8"
        assert payout_mark_paid(payout_id=payout.pk, transaction_id="ACH-8").pk == payout.pk  # repeat
        with pytest.raises(Conflict):
            payout_mark_paid(payout_id=payout.pk, transaction_id="OTHER")
        with pytest.raises(Conflict):
            payout_cancel(payout_id=payout.pk)
        assert ActivityLog.objects.filter(action="payout.completed", entity_id=str(payout.pk)).count() == 1

    def test_mark_paid_needs_a_transaction_id(self, make_broker):
        _, payout = self._payout(make_broker)
        with pytest.raises(ValidationFailed):
            payout_mark_paid(payout_id=payout.pk, transaction_id="  ")
        with pytest.raises(ValidationFailed):
            payout_mark_paid(payout_id=payout.pk, transaction_id="T\x00X")
        with pytest.raises(ValidationFailed):
            payout_cancel(payout_id=payout.pk, reason="bad\x00")
        payout.refresh_from_db()
        assert payout.status == PayoutStatus.PENDING
        assert set(payout.commissions.values_list("status", flat=True)) == {CommissionStatus.IN_PAYOUT}

    @pytest.mark.parametrize("end,status,action", [
        (payout_cancel, PayoutStatus.CANCELLED, "payout.cancelled"),
        (payout_fail, PayoutStatus.FAILED, "payout.failed"),
    ])
    def test_cancel_and_fail_release_everything(self, make_broker, admin_user, end, status, action):
        broker, payout = self._payout(make_broker)
        ended = end(payout_id=payout.pk, reason="bank details wrong", actor_user=admin_user)
        assert ended.status == status
        aug = CommissionRecord.objects.filter(order_paid_at__gte=utc(2026, 8, 1))
        assert set(aug.values_list("status", "payout_id")) == {(CommissionStatus.PAYABLE, None)}
        adj = CommissionAdjustment.objects.get()
        assert (adj.status, adj.payout_id) == (AdjustmentStatus.OPEN, None)
        assert ActivityLog.objects.get(action=action).actor_user == admin_user
        again = create(broker, AUG)  # the month can be paid out again
        assert again.pk != payout.pk and again.total_amount == 45_000

    def test_cancel_keeps_a_disputed_commission_held(self, make_broker):
        broker = make_broker()
        order = paid_order(broker=broker, paid_at=utc(2026, 8, 10))
        payout = create(broker, AUG)
        commission_hold_for_dispute(order=set_dispute(order, DisputeStatus.OPEN))
        payout_cancel(payout_id=payout.pk)
        assert (commission(order).status, commission(order).payout_id) == (CommissionStatus.HELD, None)


@pytest.mark.django_db
class TestReports:
    def test_total_equals_sum_of_report_lines(self, make_broker):
        broker = make_broker(share="12.5", markup_percent="7.5")
        first = paid_order(broker=broker, paid_at=utc(2026, 7, 10), prices=(33_333, 12_345), quantity=3)
        july = payout_create_monthly(broker=broker, year=2026, month=7)
        payout_mark_paid(payout_id=july.pk, transaction_id="T1")
        commission_apply_refund(order=set_refunded(first, 10_001))
        for day, prices in ((3, (33_333,)), (17, (99_999, 1)), (31, (45_450,))):
            paid_order(broker=broker, paid_at=utc(2026, 8, day), prices=prices)
        payout = create(broker, AUG)
        report = payout_report(payout=payout)
        lines = sum(o["commission"] for o in report["orders"]) + sum(a["amount"] for a in report["adjustments"])
        assert lines == report["totals"]["total"] == payout.total_amount
        assert sum(o["revenue_share"] for o in report["orders"]) == report["totals"]["revenue_share"]
        assert report["order_count"] == 3 and report["adjustment_count"] == 1
        assert report["totals"]["total_usd"] == f"{payout.total_amount // 100}.{payout.total_amount % 100:02d}"
        assert report["orders"][0]["order_date"].startswith("2026-08-03")
        assert report["broker"]["name"] == broker.name and report["period"]["month"] == "2026-08"

        rows = payout_report_csv(payout=payout).strip().split("\n")
        assert rows[0].startswith("type,order_number,date")
        assert [r.split(",")[0] for r in rows[1:]] == ["order", "order", "order", "adjustment", "total"]
        cents = sum(round(float(r.split(",")[8]) * 100) for r in rows[1:-1])
        assert cents == payout.total_amount
        assert rows[-1].split(",")[8] == report["totals"]["total_usd"]

    def test_broker_earnings(self, make_broker):
        broker = make_broker()
        refunded_after_july_payout(broker, 30_000)  # -7_500 open
        b = paid_order(broker=broker, paid_at=utc(2026, 8, 10))
        commission_apply_refund(order=set_refunded(b, 60_000))  # b: 15_000 left
        create(broker, AUG)  # b + adjustment: 7_500
        held = paid_order(broker=broker, paid_at=utc(2026, 9, 1))
        commission_hold_for_dispute(order=set_dispute(held, DisputeStatus.OPEN))
        paid_order(broker=broker, paid_at=utc(2026, 9, 2))
        e = broker_earnings(broker=broker)
        assert {k: v for k, v in e.items() if not k.endswith("_usd")} == {
            "pending": 30_000, "held": 30_000, "in_payout": 7_500, "paid": 30_000,
            "clawed_back": 22_500, "open_adjustments": 0,
        }
        assert e["clawed_back_usd"] == "225.00"


@pytest.mark.django_db
class TestRunAndCommand:
    def test_run_month_for_all_brokers(self, make_broker, settings):
        settings.PAYOUT_MINIMUM_CENTS = 40_000
        rich, poor, idle = make_broker(name="Rich"), make_broker(name="Poor"), make_broker(name="Idle")
        paid_order(broker=rich, paid_at=utc(2026, 8, 1))
        paid_order(broker=rich, paid_at=utc(2026, 8, 2))
        paid_order(broker=poor, paid_at=utc(2026, 8, 3))
        lines = []
        results = payout_run_month(year=2026, month=8, progress=lines.append)
        outcomes = {r.broker_name: (r.outcome, r.total_amount) for r in results}
        assert outcomes == {"Rich": ("created", 60_000), "Poor": ("below_minimum", 30_000)}
        assert lines[0] == "2 brokers to consider, 0 already paid out for 2026-08"
        assert lines[-1] == "1 payouts created, 1 brokers carried over (below the minimum)"
        assert Payout.objects.get().broker == rich
        assert payout_run_month(year=2026, month=8)[0].outcome in ("exists", "below_minimum")
        assert Payout.objects.count() == 1 and idle.payouts.count() == 0

    def test_command_dry_run_writes_nothing(self, make_broker):
        broker = make_broker(name="Acme Credit")
        paid_order(broker=broker, paid_at=utc(2026, 8, 1))
        out = io.StringIO()
        call_command("create_payouts", "--month", "2026-08", "--dry-run", stdout=out, stderr=io.StringIO())
        text = out.getvalue()
        assert "dry run" in text and "Acme Credit" in text and "$300.00" in text and "would be created" in text
        assert Payout.objects.count() == 0
        out = io.StringIO()
        call_command("create_payouts", "--month", "2026-08", "--broker", str(broker.pk), stdout=out,
                     stderr=io.StringIO())
        assert "1 payouts created" in out.getvalue()
        assert Payout.objects.get().total_amount == 30_000

    @pytest.mark.parametrize("args", [
        ["--month", "2026-13"], ["--month", "Oct"], ["--month", "2026-08", "--broker", "x"],
    ])
    def test_command_rejects_bad_input(self, args):
        from django.core.management import CommandError

        with pytest.raises(CommandError):
            call_command("create_payouts", *args, stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_create_one_payout(make_broker):
    broker = make_broker()
    for day in range(1, 6):
        paid_order(broker=broker, paid_at=utc(2026, 8, day))
    results = run_together([lambda: create(broker, AUG).pk] * 6)
    assert raised(results) == []
    assert len(set(results)) == 1 and len(results) == 6
    payout = Payout.objects.get()
    assert (payout.total_amount, payout.commission_count) == (150_000, 5)
    assert CommissionRecord.objects.filter(payout=payout, status=CommissionStatus.IN_PAYOUT).count() == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_refunds_racing_the_run_are_counted_exactly_once(make_broker):
    """Refunds applied while the month-end run marks the rows: each is either a reduction inside
    the payout or an adjustment left for the next one, never both and never lost."""
    broker = make_broker()
    orders = [paid_order(broker=broker, paid_at=utc(2026, 8, 1 + i % 28)) for i in range(20)]

    def refunds():
        for order in orders:
            commission_apply_refund(order=set_refunded(order, 60_000))

    assert raised(run_together([refunds, lambda: create(broker, AUG)])) == []
    payout = Payout.objects.get()
    report = payout_report(payout=payout)
    assert payout.total_amount == sum(o["commission"] for o in report["orders"])
    open_adj = sum(CommissionAdjustment.objects.filter(status=AdjustmentStatus.OPEN).values_list("amount", flat=True))
    assert payout.total_amount + open_adj == 20 * 15_000  # every order ends at half its earnings
    assert Order.objects.filter(amount_refunded=60_000).count() == 20


@pytest.mark.django_db
def test_a_page_lists_the_first_lines_of_a_long_payout_and_counts_them_all(make_broker):
    broker = make_broker()
    for day in (3, 9, 17, 25):
        paid_order(broker=broker, paid_at=utc(2026, 8, day))
    payout = create(broker, AUG)
    full = payout_report(payout=payout)
    page = payout_report(payout=payout, order_limit=3)
    assert (full["order_count"], len(full["orders"])) == (4, 4)
    assert (page["order_count"], page["orders"]) == (4, full["orders"][:3])
    assert page["totals"] == full["totals"]
    assert payout_report(payout=payout, order_limit=10)["order_count"] == 4
