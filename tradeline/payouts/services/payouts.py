"""Monthly broker payouts (DOMAIN.md, "Payouts").

A payout for a broker and a UTC month takes, in one transaction:
  - every PAYABLE commission in no payout yet whose order was paid before the period's end (earlier
    leftovers included) and longer ago than COMMISSION_HOLD_DAYS, and
  - every OPEN adjustment of the broker (clawbacks booked after earlier payouts).
The rows are marked first with conditional UPDATEs (status + payout_id), then the totals are
aggregated in SQL over exactly the rows marked: no row is ever loaded into memory, and a refund
racing the run either reduces the commission before it is marked or books an adjustment after.
Below PAYOUT_MINIMUM_CENTS (or ≤ 0) the savepoint is rolled back: nothing is marked, everything
carries over. The broker row is locked first, so concurrent runs for one broker queue up and the
second finds the first's payout; the partial UniqueConstraint (broker, period_start) backs it.

Lock order: Broker -> (Commission, Adjustment by UPDATE) -> the new Payout. Payout transitions
(paid / failed / cancelled) start with a conditional UPDATE of the payout row; nothing locks a
commission and then waits for a payout, so the two never wait on each other in a cycle.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Sum
from django.utils import timezone

from tradeline.audit.services import activity_log
from tradeline.brokers.models import Broker
from tradeline.core.errors import Conflict, NotFound, ValidationFailed
from tradeline.core.money import cents_to_usd
from tradeline.orders.models import DisputeStatus, Order
from tradeline.payouts.models import (
    AdjustmentStatus,
    CommissionAdjustment,
    CommissionRecord,
    CommissionStatus,
    Payout,
    PayoutStatus,
)

logger = logging.getLogger(__name__)

LIVE_STATUSES = (PayoutStatus.PENDING, PayoutStatus.COMPLETED)


def month_period(year: int, month: int) -> tuple[datetime, datetime]:
    """[first day 00:00 UTC, next month's first day 00:00 UTC)."""
    if not isinstance(year, int) or not isinstance(month, int) or not (2000 <= year <= 2100) or not (1 <= month <= 12):
        raise ValidationFailed(
            "Give a calendar month: year 2000..2100 and month 1..12.", code="INVALID_PERIOD",
            details={"year": year, "month": month},
        )
    start = datetime(year, month, 1, tzinfo=dt_timezone.utc)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=dt_timezone.utc)
    return start, end


def _check_period_ended(period_end: datetime, now: datetime) -> None:
    if now < period_end:
        raise Conflict(
            "This month has not ended yet (UTC); it can be paid out from "
            f"{period_end.strftime('%Y-%m-%d %H:%M')} UTC.",
            code="PERIOD_NOT_ENDED",
            details={"period_end": period_end.isoformat()},
        )


def eligible_commissions(*, broker_id, period_end: datetime, now: datetime):
    """PAYABLE commissions of the broker, in no payout, paid before the period's end and the hold."""
    cutoff = min(period_end, now - timedelta(days=settings.COMMISSION_HOLD_DAYS))
    return CommissionRecord.objects.filter(
        broker_id=broker_id, status=CommissionStatus.PAYABLE, payout__isnull=True, order_paid_at__lt=cutoff
    )


def open_adjustments(*, broker_id):
    return CommissionAdjustment.objects.filter(
        broker_id=broker_id, status=AdjustmentStatus.OPEN, payout__isnull=True
    )


@dataclass
class PayoutPreview:
    """What a run would pay a broker (dry run), or did pay (`payout` set)."""

    broker_id: object
    broker_name: str
    commission_count: int
    adjustment_count: int
    total_revenue_share: int
    total_markup: int
    total_adjustments: int
    outcome: str  # created | exists | below_minimum | nothing
    payout: Payout | None = None

    @property
    def total_amount(self) -> int:
        return self.total_revenue_share + self.total_markup + self.total_adjustments

    def as_dict(self) -> dict:
        return {
            "broker_id": str(self.broker_id), "broker_name": self.broker_name, "outcome": self.outcome,
            "payout_id": str(self.payout.pk) if self.payout else None,
            "commission_count": self.commission_count, "adjustment_count": self.adjustment_count,
            **{name: getattr(self, name) for name in (
                "total_revenue_share", "total_markup", "total_adjustments", "total_amount")},
            **{f"{name}_usd": cents_to_usd(getattr(self, name)) for name in (
                "total_revenue_share", "total_markup", "total_adjustments", "total_amount")},
        }


def _sums(commissions, adjustments) -> tuple[int, int, int, int, int]:
    c = commissions.aggregate(share=Sum("revenue_share_amount"), markup=Sum("markup_amount"), n=Count("id"))
    a = adjustments.aggregate(total=Sum("amount"), n=Count("id"))
    return c["share"] or 0, c["markup"] or 0, a["total"] or 0, c["n"], a["n"]


def _payable(total: int) -> bool:
    return total > 0 and total >= settings.PAYOUT_MINIMUM_CENTS


class _CarryOver(Exception):
    """Rolls the payout's savepoint back: the total is below the minimum."""


def _live_payout(broker_id, period_start) -> Payout | None:
    return Payout.objects.filter(broker_id=broker_id, period_start=period_start, status__in=LIVE_STATUSES).first()


def payout_preview(*, broker: Broker, year: int, month: int, now: datetime | None = None) -> PayoutPreview:
    """What payout_create_monthly would do now, without writing anything."""
    period_start, period_end = month_period(year, month)
    now = now or timezone.now()
    _check_period_ended(period_end, now)
    share, markup, adjustments, n_comm, n_adj = _sums(
        eligible_commissions(broker_id=broker.pk, period_end=period_end, now=now),
        open_adjustments(broker_id=broker.pk),
    )
    existing = _live_payout(broker.pk, period_start)
    total = share + markup + adjustments
    outcome = "exists" if existing else ("created" if _payable(total) else ("nothing" if not n_comm + n_adj
                                                                          else "below_minimum"))
    return PayoutPreview(broker.pk, str(broker), n_comm, n_adj, share, markup, adjustments, outcome, existing)


def payout_create_monthly(*, broker: Broker, year: int, month: int, actor_user=None,
                          now: datetime | None = None) -> Payout | None:
    """Create the broker's payout for a UTC month; the existing one if it was already created.

    None when the total is ≤ 0 or below PAYOUT_MINIMUM_CENTS (everything carries over).
    Raises Conflict PERIOD_NOT_ENDED (409) for a month that has not ended.
    """
    return _create_monthly(broker=broker, year=year, month=month, actor_user=actor_user, now=now).payout


def _create_monthly(*, broker: Broker, year: int, month: int, actor_user=None,
                    now: datetime | None = None) -> PayoutPreview:
    period_start, period_end = month_period(year, month)
    now = now or timezone.now()
    _check_period_ended(period_end, now)
    with transaction.atomic():
        # Serialises runs for this broker; the second run then finds the first one's payout.
        # FOR NO KEY UPDATE: rows referencing the broker (commissions, adjustments, activity log)
        # can still be inserted meanwhile; a full FOR UPDATE would deadlock with a racing refund.
        locked = Broker.objects.select_for_update(no_key=True).filter(pk=broker.pk).first()
        if locked is None:
            raise NotFound("No such broker.", code="BROKER_NOT_FOUND")
        existing = _live_payout(broker.pk, period_start)
        if existing is not None:
            return _preview_of(existing, str(locked), "exists")
        try:
            with transaction.atomic():
                payout = _create_and_fill(broker=locked, period_start=period_start, period_end=period_end,
                                          now=now, actor_user=actor_user)
        except _CarryOver as carry:
            return carry.args[0]
        except IntegrityError:
            # A concurrent run that did not see our lock (e.g. another code path) won the constraint.
            existing = _live_payout(broker.pk, period_start)
            if existing is None:
                raise
            return _preview_of(existing, str(locked), "exists")
        activity_log(
            action="PAYOUT_CREATED", entity=payout, actor_user=actor_user, broker=locked,
            metadata={"period": f"{year:04d}-{month:02d}", "total_amount": payout.total_amount,
                      "commission_count": payout.commission_count, "adjustment_count": payout.adjustment_count},
        )
        return _preview_of(payout, str(locked), "created")


def _preview_of(payout: Payout, broker_name: str, outcome: str) -> PayoutPreview:
    return PayoutPreview(payout.broker_id, broker_name, payout.commission_count, payout.adjustment_count,
                         payout.total_revenue_share, payout.total_markup, payout.total_adjustments, outcome, payout)


def _create_and_fill(*, broker: Broker, period_start, period_end, now, actor_user) -> Payout:
    # The row exists before the totals are known (the commissions point at it); its placeholder
    # total satisfies the CHECK constraints and is replaced below, before the transaction commits.
    payout = Payout.objects.create(
        broker=broker, period_start=period_start, period_end=period_end, total_revenue_share=0, total_markup=0,
        total_adjustments=1, total_amount=1, created_by=actor_user,
    )
    n_comm = eligible_commissions(broker_id=broker.pk, period_end=period_end, now=now).update(
        status=CommissionStatus.IN_PAYOUT, payout=payout, updated_at=now
    )
    n_adj = open_adjustments(broker_id=broker.pk).update(status=AdjustmentStatus.IN_PAYOUT, payout=payout,
                                                         updated_at=now)
    share, markup, adjustments, _, _ = _sums(
        CommissionRecord.objects.filter(payout=payout), CommissionAdjustment.objects.filter(payout=payout)
    )
    total = share + markup + adjustments
    if not _payable(total):
        outcome = "nothing" if not n_comm + n_adj else "below_minimum"
        raise _CarryOver(PayoutPreview(broker.pk, str(broker), n_comm, n_adj, share, markup, adjustments, outcome))
    Payout.objects.filter(pk=payout.pk).update(
        total_revenue_share=share, total_markup=markup, total_adjustments=adjustments, total_amount=total,
        commission_count=n_comm, adjustment_count=n_adj,
    )
    payout.refresh_from_db()
    return payout


def payout_run_month(*, year: int, month: int, broker_id=None, dry_run: bool = False, actor_user=None,
                     progress: Callable[[str], None] | None = None, now: datetime | None = None) -> list[PayoutPreview]:
    """Payouts of one month for every broker with something payable (or one broker).

    One transaction per broker, so a failure leaves the brokers done so far done. `progress`
    receives a short line every few brokers. Returns one PayoutPreview per broker considered.
    """
    period_start, period_end = month_period(year, month)
    now = now or timezone.now()
    _check_period_ended(period_end, now)
    if broker_id is not None:
        brokers = Broker.objects.filter(pk=broker_id)
        if not brokers.exists():
            raise NotFound("No such broker.", code="BROKER_NOT_FOUND")
    else:
        has_payable = Exists(CommissionRecord.objects.filter(
            broker_id=OuterRef("pk"), status=CommissionStatus.PAYABLE, payout__isnull=True,
            order_paid_at__lt=period_end))
        has_adjustment = Exists(CommissionAdjustment.objects.filter(
            broker_id=OuterRef("pk"), status=AdjustmentStatus.OPEN, payout__isnull=True))
        brokers = Broker.objects.filter(has_payable | has_adjustment)
    brokers = list(brokers.order_by("pk"))
    results = []
    step = max(1, len(brokers) // 20)
    for i, broker in enumerate(brokers, 1):
        if dry_run:
            results.append(payout_preview(broker=broker, year=year, month=month, now=now))
        else:
            results.append(_create_monthly(broker=broker, year=year, month=month, actor_user=actor_user, now=now))
        if progress and (i % step == 0 or i == len(brokers)):
            created = sum(1 for r in results if r.outcome == "created")
            progress(f"{i}/{len(brokers)} brokers, {created} payouts {'would be ' if dry_run else ''}created")
    return results


def _transition(*, payout_id, to: str, actor_user, **fields) -> Payout:
    updated = Payout.objects.filter(pk=payout_id, status=PayoutStatus.PENDING).update(
        status=to, updated_at=timezone.now(), **fields
    )
    if not updated:
        payout = Payout.objects.filter(pk=payout_id).first()
        if payout is None:
            raise NotFound("No such payout.", code="PAYOUT_NOT_FOUND")
        raise Conflict(
            f"This payout is {payout.status}; only a PENDING payout can be changed.",
            code="PAYOUT_NOT_PENDING", details={"status": payout.status},
        )
    return Payout.objects.select_related("broker").get(pk=payout_id)


@transaction.atomic
def payout_mark_paid(*, payout_id, transaction_id: str, notes: str = "", actor_user=None) -> Payout:
    """PENDING -> COMPLETED: the admin paid the broker. Commissions PAID, adjustments APPLIED.

    Repeating with the same transaction id returns the payout unchanged; anything else that is not
    PENDING is a Conflict.
    """
    transaction_id = (transaction_id or "").strip()
    if not transaction_id:
        raise ValidationFailed("The transaction id of the transfer is required.", code="TRANSACTION_ID_REQUIRED")
    if len(transaction_id) > 200:
        raise ValidationFailed("The transaction id is too long (200 characters at most).",
                               code="TRANSACTION_ID_TOO_LONG")
    now = timezone.now()
    done = Payout.objects.filter(pk=payout_id, status=PayoutStatus.COMPLETED, transaction_id=transaction_id).first()
    if done is not None:
        return done
    payout = _transition(payout_id=payout_id, to=PayoutStatus.COMPLETED, actor_user=actor_user,
                         transaction_id=transaction_id, notes=notes or "", processed_at=now, processed_by=actor_user)
    n_comm = CommissionRecord.objects.filter(payout_id=payout.pk, status=CommissionStatus.IN_PAYOUT).update(
        status=CommissionStatus.PAID, paid_at=now, updated_at=now
    )
    n_adj = CommissionAdjustment.objects.filter(payout_id=payout.pk, status=AdjustmentStatus.IN_PAYOUT).update(
        status=AdjustmentStatus.APPLIED, updated_at=now
    )
    activity_log(action="PAYOUT_COMPLETED", entity=payout, actor_user=actor_user, broker=payout.broker,
                 metadata={"transaction_id": transaction_id, "total_amount": payout.total_amount,
                           "commissions": n_comm, "adjustments": n_adj})
    return payout


def _release(payout: Payout, now) -> tuple[int, int]:
    """Give a failed/cancelled payout's commissions and adjustments back to the next payout."""
    mine = CommissionRecord.objects.filter(payout_id=payout.pk, status=CommissionStatus.IN_PAYOUT)
    disputed = Exists(Order.objects.filter(pk=OuterRef("order_id"), dispute_status=DisputeStatus.OPEN))
    held = mine.filter(disputed).update(status=CommissionStatus.HELD, payout=None, updated_at=now)
    payable = mine.update(status=CommissionStatus.PAYABLE, payout=None, updated_at=now)
    n_adj = CommissionAdjustment.objects.filter(payout_id=payout.pk, status=AdjustmentStatus.IN_PAYOUT).update(
        status=AdjustmentStatus.OPEN, payout=None, updated_at=now
    )
    return held + payable, n_adj


def _end(*, payout_id, to: str, reason: str, actor_user, action: str) -> Payout:
    now = timezone.now()
    fields = {"processed_at": now, "processed_by": actor_user}
    if reason:
        fields["notes"] = reason
    payout = _transition(payout_id=payout_id, to=to, actor_user=actor_user, **fields)
    n_comm, n_adj = _release(payout, now)
    activity_log(action=action, entity=payout, actor_user=actor_user, broker=payout.broker,
                 metadata={"reason": reason, "total_amount": payout.total_amount,
                           "commissions_released": n_comm, "adjustments_released": n_adj})
    return payout


@transaction.atomic
def payout_fail(*, payout_id, reason: str = "", actor_user=None) -> Payout:
    """PENDING -> FAILED (the transfer bounced): its commissions and adjustments carry over."""
    return _end(payout_id=payout_id, to=PayoutStatus.FAILED, reason=reason, actor_user=actor_user,
                action="PAYOUT_FAILED")


@transaction.atomic
def payout_cancel(*, payout_id, reason: str = "", actor_user=None) -> Payout:
    """PENDING -> CANCELLED: its commissions and adjustments carry over to the next payout."""
    return _end(payout_id=payout_id, to=PayoutStatus.CANCELLED, reason=reason, actor_user=actor_user,
                action="PAYOUT_CANCELLED")
