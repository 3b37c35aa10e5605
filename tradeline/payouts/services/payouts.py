"""Monthly broker payouts (docs/domain.md, "Payout").

A payout for a broker and a UTC month takes, in one transaction:
  - every PAYABLE commission in no payout yet whose order was paid before the period's end (earlier
    leftovers included) and longer ago than COMMISSION_HOLD_DAYS, and
  - every OPEN adjustment of the broker (clawbacks booked after earlier payouts).
Only a broker whose eligible total reaches PAYOUT_MINIMUM_CENTS (and is > 0) gets a payout; below
it everything carries over. The rows are marked with conditional UPDATEs (status + payout_id), and
the totals are aggregated in SQL over exactly the rows marked: no row is ever loaded into memory,
and a refund racing the run either reduces the commission before it is marked or books an
adjustment after (should that take a payout below the minimum, its rows go back and the payout
row is deleted in the same transaction). A month-end run does this for all brokers at once, in a
fixed number of statements (payout_run_month); the marking is a heap-only update on PostgreSQL
(see CommissionRecord). The broker rows are locked first, so concurrent
runs queue up and the second finds the first's payouts; the partial UniqueConstraint
(broker, period_start) backs it.

Lock order: Broker -> (Commission, Adjustment by UPDATE) -> the new Payout. Payout transitions
(paid / failed / cancelled, in payout_status.py) start with a conditional UPDATE of the payout row; nothing locks a
commission and then waits for a payout, so the two never wait on each other in a cycle.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Subquery, Sum
from django.utils import timezone

from tradeline.audit.models import ActivityLog, ActorType
from tradeline.audit.services import activity_log
from tradeline.brokers.models import Broker
from tradeline.core.errors import Conflict, NotFound, ValidationFailed
from tradeline.core.money import cents_to_usd
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


def _cutoff(period_end: datetime, now: datetime) -> datetime:
    return min(period_end, now - timedelta(days=settings.COMMISSION_HOLD_DAYS))


def eligible_commissions(*, period_end: datetime, now: datetime):
    """PAYABLE commissions in no payout, of orders paid before the period's end and the hold."""
    return CommissionRecord.objects.filter(
        status=CommissionStatus.PAYABLE, payout__isnull=True, order_paid_at__lt=_cutoff(period_end, now)
    )


def open_adjustments():
    return CommissionAdjustment.objects.filter(status=AdjustmentStatus.OPEN, payout__isnull=True)


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


def _grouped_sums(commissions, adjustments, key: str) -> dict:
    """{key value: [share, markup, adjustments, n_commissions, n_adjustments]}, two GROUP BY queries."""
    sums: dict = {}
    for row in commissions.values(key).annotate(share=Sum("revenue_share_amount"), markup=Sum("markup_amount"),
                                                n=Count("id")).order_by():
        sums[row[key]] = [row["share"] or 0, row["markup"] or 0, 0, row["n"], 0]
    for row in adjustments.values(key).annotate(total=Sum("amount"), n=Count("id")).order_by():
        entry = sums.setdefault(row[key], [0, 0, 0, 0, 0])
        entry[2], entry[4] = row["total"] or 0, row["n"]
    return sums


def _payable(total: int) -> bool:
    return total > 0 and total >= settings.PAYOUT_MINIMUM_CENTS


def _outcome(total: int, n_comm: int, n_adj: int) -> str:
    if _payable(total):
        return "created"
    return "below_minimum" if n_comm + n_adj else "nothing"


def _candidate_brokers(*, broker_ids, period_end: datetime, now: datetime):
    if broker_ids is not None:
        return Broker.objects.filter(pk__in=list(broker_ids))
    has_payable = Exists(eligible_commissions(period_end=period_end, now=now).filter(broker_id=OuterRef("pk")))
    has_adjustment = Exists(open_adjustments().filter(broker_id=OuterRef("pk")))
    return Broker.objects.filter(has_payable | has_adjustment)


def _broker_name(name: str, business_name: str) -> str:
    return business_name or name


def payout_preview(*, year: int, month: int, broker_ids=None, now: datetime | None = None) -> list[PayoutPreview]:
    """What a run would do now, per broker, without writing anything (aggregates in SQL)."""
    period_start, period_end = month_period(year, month)
    now = now or timezone.now()
    _check_period_ended(period_end, now)
    brokers = list(_candidate_brokers(broker_ids=broker_ids, period_end=period_end, now=now)
                   .order_by("pk").values_list("pk", "name", "business_name"))
    ids = [pk for pk, _, _ in brokers]
    existing = {p.broker_id: p for p in Payout.objects.filter(broker_id__in=ids, period_start=period_start,
                                                               status__in=LIVE_STATUSES)}
    sums = _grouped_sums(eligible_commissions(period_end=period_end, now=now).filter(broker_id__in=ids),
                         open_adjustments().filter(broker_id__in=ids), "broker_id")
    results = []
    for pk, name, business_name in brokers:
        if pk in existing:
            results.append(_preview_of(existing[pk], _broker_name(name, business_name), "exists"))
            continue
        share, markup, adjustments, n_comm, n_adj = sums.get(pk, [0, 0, 0, 0, 0])
        results.append(PayoutPreview(pk, _broker_name(name, business_name), n_comm, n_adj, share, markup, adjustments,
                                     _outcome(share + markup + adjustments, n_comm, n_adj)))
    return results


def _preview_of(payout: Payout, broker_name: str, outcome: str) -> PayoutPreview:
    return PayoutPreview(payout.broker_id, broker_name, payout.commission_count, payout.adjustment_count,
                         payout.total_revenue_share, payout.total_markup, payout.total_adjustments, outcome, payout)


def payout_create_monthly(*, broker: Broker, year: int, month: int, actor_user=None,
                          now: datetime | None = None) -> Payout | None:
    """Create the broker's payout for a UTC month; the existing one if it was already created.

    None when the total is ≤ 0 or below PAYOUT_MINIMUM_CENTS (everything carries over).
    Raises Conflict PERIOD_NOT_ENDED (409) for a month that has not ended.
    """
    results = payout_run_month(year=year, month=month, broker_id=broker.pk, actor_user=actor_user, now=now)
    return results[0].payout if results else None


def payout_run_month(*, year: int, month: int, broker_id=None, dry_run: bool = False, actor_user=None,
                     progress: Callable[[str], None] | None = None, now: datetime | None = None) -> list[PayoutPreview]:
    """The payouts of one UTC month for every broker with something payable (or for one broker).

    Set-based, in one transaction, whatever the number of brokers and commissions:
      1. lock the brokers' rows (FOR NO KEY UPDATE, in pk order): concurrent runs queue up here,
         and the second one finds the first one's payouts;
      2. sum the eligible commissions and open adjustments per broker (GROUP BY broker_id) and
         insert one PENDING payout per broker without a live payout for the month whose total
         reaches the minimum (placeholder totals that satisfy the CHECK constraints, replaced in
         step 5 before commit);
      3. mark the eligible commissions and the open adjustments with their broker's new payout
         (conditional UPDATEs: a row changed meanwhile by a refund is re-checked by the database);
      4. aggregate exactly the marked rows per payout (GROUP BY payout_id; on PostgreSQL over the
         UPDATE's RETURNING rows, in the same statement);
      5. a payout that a racing refund took below the minimum: its rows go back (PAYABLE / OPEN)
         and it is deleted; the others get their totals.
    Returns one PayoutPreview per broker considered. `dry_run` only reads (payout_preview).
    """
    period_start, period_end = month_period(year, month)
    now = now or timezone.now()
    _check_period_ended(period_end, now)
    if broker_id is not None and not Broker.objects.filter(pk=broker_id).exists():
        raise NotFound("No such broker.", code="BROKER_NOT_FOUND")
    broker_ids = [broker_id] if broker_id is not None else None
    say = progress or (lambda line: None)
    if dry_run:
        results = payout_preview(year=year, month=month, broker_ids=broker_ids, now=now)
        say(f"{len(results)} brokers, {sum(r.outcome == 'created' for r in results)} payouts would be created")
        return results
    with transaction.atomic():
        brokers = list(
            _candidate_brokers(broker_ids=broker_ids, period_end=period_end, now=now)
            .select_for_update(no_key=True).order_by("pk").values_list("pk", "name", "business_name")
        )
        names = {pk: _broker_name(name, business_name) for pk, name, business_name in brokers}
        existing = {p.broker_id: p for p in Payout.objects.filter(broker_id__in=list(names),
                                                                   period_start=period_start,
                                                                   status__in=LIVE_STATUSES)}
        new_ids = [pk for pk in names if pk not in existing]
        say(f"{len(names)} brokers to consider, {len(existing)} already paid out for {year:04d}-{month:02d}")
        cutoff = _cutoff(period_end, now)
        planned = _grouped_sums(eligible_commissions(period_end=period_end, now=now).filter(broker_id__in=new_ids),
                                open_adjustments().filter(broker_id__in=new_ids), "broker_id")
        payable_ids = [pk for pk in new_ids if _payable(sum(planned.get(pk, [0, 0, 0])[:3]))]
        payouts = Payout.objects.bulk_create(
            [Payout(broker_id=pk, period_start=period_start, period_end=period_end, total_revenue_share=0,
                    total_markup=0, total_adjustments=1, total_amount=1, created_by=actor_user)
             for pk in payable_ids],
            batch_size=1000,
        )
        by_broker = {p.broker_id: p for p in payouts}
        sums = _mark_rows(payouts, period_start=period_start, cutoff=cutoff, now=now)
        say(f"{sum(s[3] for s in sums.values())} commissions and {sum(s[4] for s in sums.values())} "
            "adjustments marked")
        keep, drop, results = [], [], []
        for pk in names:
            if pk in existing:
                results.append(_preview_of(existing[pk], names[pk], "exists"))
                continue
            payout = by_broker.get(pk)
            # The marked rows are the truth for a created payout; the others carry over as planned.
            share, markup, adjustments, c_count, a_count = (
                sums.get(payout.pk, [0, 0, 0, 0, 0]) if payout else planned.get(pk, [0, 0, 0, 0, 0]))
            outcome = _outcome(share + markup + adjustments, c_count, a_count)
            if payout is not None and outcome == "created":
                payout.total_revenue_share, payout.total_markup = share, markup
                payout.total_adjustments, payout.total_amount = adjustments, share + markup + adjustments
                payout.commission_count, payout.adjustment_count = c_count, a_count
                keep.append(payout)
            elif payout is not None:  # a refund between the plan and the marking took it below the minimum
                drop.append(payout)
            results.append(PayoutPreview(pk, names[pk], c_count, a_count, share, markup, adjustments, outcome,
                                         payout if outcome == "created" else None))
        for payout in drop:
            CommissionRecord.objects.of_payout(payout).update(
                status=CommissionStatus.PAYABLE, payout=None, updated_at=now)
            CommissionAdjustment.objects.filter(payout_id=payout.pk).update(
                status=AdjustmentStatus.OPEN, payout=None, updated_at=now)
            Payout.objects.filter(pk=payout.pk).delete()
        _write_totals(keep)
        _log_created(keep, names, year=year, month=month, actor_user=actor_user)
    below = sum(r.outcome == "below_minimum" for r in results)
    say(f"{len(keep)} payouts created, {below} brokers carried over (below the minimum)")
    return results


def _mark_rows(payouts: list[Payout], *, period_start: datetime, cutoff: datetime, now: datetime) -> dict:
    """Point the eligible commissions and open adjustments of each payout's broker at that payout.

    Returns the sums of exactly the rows marked, as _grouped_sums does, keyed by payout id.
    PostgreSQL: per table one UPDATE ... FROM (a hash join) whose RETURNING rows are aggregated in
    the same statement, so the marked rows are not read a second time. Elsewhere: the portable
    correlated subquery (fine for the small data sets SQLite serves), then a GROUP BY payout_id.
    """
    if not payouts:
        return {}
    ids = [p.pk for p in payouts]
    if connection.vendor == "postgresql":
        sums: dict = {}
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH marked AS (UPDATE {CommissionRecord._meta.db_table} AS t "
                f"SET status = %s, payout_id = p.id, updated_at = %s FROM {Payout._meta.db_table} AS p "
                f"WHERE p.id = ANY(%s) AND t.broker_id = p.broker_id AND t.payout_id IS NULL "
                f"AND t.status = %s AND t.order_paid_at < %s "
                f"RETURNING t.payout_id, t.revenue_share_amount, t.markup_amount) "
                f"SELECT payout_id, sum(revenue_share_amount)::bigint, sum(markup_amount)::bigint, count(*) "
                f"FROM marked GROUP BY payout_id",
                [CommissionStatus.IN_PAYOUT, now, ids, CommissionStatus.PAYABLE, cutoff],
            )
            for payout_id, share, markup, n in cursor.fetchall():
                sums[payout_id] = [share, markup, 0, n, 0]
            cursor.execute(
                f"WITH marked AS (UPDATE {CommissionAdjustment._meta.db_table} AS t "
                f"SET status = %s, payout_id = p.id, updated_at = %s FROM {Payout._meta.db_table} AS p "
                f"WHERE p.id = ANY(%s) AND t.broker_id = p.broker_id AND t.payout_id IS NULL AND t.status = %s "
                f"RETURNING t.payout_id, t.amount) "
                f"SELECT payout_id, sum(amount)::bigint, count(*) FROM marked GROUP BY payout_id",
                [AdjustmentStatus.IN_PAYOUT, now, ids, AdjustmentStatus.OPEN],
            )
            for payout_id, total, n in cursor.fetchall():
                entry = sums.setdefault(payout_id, [0, 0, 0, 0, 0])
                entry[2], entry[4] = total, n
        return sums
    broker_ids = [p.broker_id for p in payouts]
    new_payout = Subquery(
        Payout.objects.filter(broker_id=OuterRef("broker_id"), period_start=period_start,
                              status=PayoutStatus.PENDING).values("pk")[:1]
    )
    CommissionRecord.objects.filter(
        broker_id__in=broker_ids, status=CommissionStatus.PAYABLE, payout__isnull=True, order_paid_at__lt=cutoff
    ).update(status=CommissionStatus.IN_PAYOUT, payout_id=new_payout, updated_at=now)
    open_adjustments().filter(broker_id__in=broker_ids).update(
        status=AdjustmentStatus.IN_PAYOUT, payout_id=new_payout, updated_at=now
    )
    return _grouped_sums(CommissionRecord.objects.filter(payout_id__in=ids),
                         CommissionAdjustment.objects.filter(payout_id__in=ids), "payout_id")


TOTAL_FIELDS = ("total_revenue_share", "total_markup", "total_adjustments", "total_amount", "commission_count",
                "adjustment_count")


def _write_totals(payouts: list[Payout]) -> None:
    """Store the computed totals: one UPDATE ... FROM unnest(arrays) on PostgreSQL."""
    if not payouts:
        return
    if connection.vendor == "postgresql":
        sets = ", ".join(f"{name} = v.{name}" for name in TOTAL_FIELDS)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Payout._meta.db_table} AS p SET {sets} "
                f"FROM unnest(%s::uuid[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::int[], "
                f"%s::int[]) AS v(id, {', '.join(TOTAL_FIELDS)}) WHERE p.id = v.id",
                [[p.pk for p in payouts], *([getattr(p, name) for p in payouts] for name in TOTAL_FIELDS)],
            )
        return
    Payout.objects.bulk_update(payouts, list(TOTAL_FIELDS), batch_size=500)


def _log_created(payouts: list[Payout], names: dict, *, year: int, month: int, actor_user) -> None:
    """One payout.created activity row per payout, written in one INSERT for a month-end run."""
    if len(payouts) == 1:
        p = payouts[0]
        activity_log(action="payout.created", entity=p, actor_user=actor_user, broker=p.broker,
                     metadata=_created_metadata(p, year, month))
        return
    actor_type = ActorType.ADMIN if actor_user is not None else ActorType.SYSTEM
    ActivityLog.objects.bulk_create(
        [ActivityLog(action="payout.created", entity_type="Payout", entity_id=str(p.pk), actor_type=actor_type,
                     actor_user=actor_user, broker_id=p.broker_id, metadata=_created_metadata(p, year, month))
         for p in payouts],
        batch_size=1000,
    )


def _created_metadata(payout: Payout, year: int, month: int) -> dict:
    return {"period": f"{year:04d}-{month:02d}", "total_amount": payout.total_amount,
            "commission_count": payout.commission_count, "adjustment_count": payout.adjustment_count}
