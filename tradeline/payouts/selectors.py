"""Reads of the payouts app: broker earnings, payout lists and reports (aggregates in SQL)."""

import csv
import io

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from tradeline.brokers.models import Broker
from tradeline.brokers.selectors import broker_scoped_get
from tradeline.core.errors import NotFound, ValidationFailed
from tradeline.core.money import cents_to_usd
from tradeline.payouts.models import (
    AdjustmentStatus,
    CommissionAdjustment,
    CommissionRecord,
    CommissionStatus,
    Payout,
    PayoutStatus,
)

MONEY_TOTALS = ("total_revenue_share", "total_markup", "total_adjustments", "total_amount")


def with_usd(data: dict, *names: str) -> dict:
    for name in names:
        data[f"{name}_usd"] = cents_to_usd(data[name])
    return data


def broker_earnings(*, broker: Broker) -> dict:
    """What the broker has earned, by state, in cents (+ `_usd`).

    pending: payable, waiting for the next payout; held: disputed; in_payout: in a PENDING payout;
    paid: in COMPLETED payouts; clawed_back: taken back by refunds and lost disputes (reductions
    before payout plus adjustments after); open_adjustments: clawbacks the next payout deducts.
    """
    c = CommissionRecord.objects.filter(broker=broker).aggregate(
        pending=Sum("total_commission", filter=Q(status=CommissionStatus.PAYABLE), default=0),
        held=Sum("total_commission", filter=Q(status=CommissionStatus.HELD), default=0),
        in_payout=Sum("total_commission", filter=Q(status=CommissionStatus.IN_PAYOUT), default=0),
        paid=Sum("total_commission", filter=Q(status=CommissionStatus.PAID), default=0),
        reduced=Sum(F("original_revenue_share") + F("original_markup") - F("total_commission"), default=0),
    )
    a = CommissionAdjustment.objects.filter(broker=broker).aggregate(
        clawed=Sum("amount", default=0, filter=~Q(reason__in=(CommissionAdjustment.Reason.MANUAL,
                                                              CommissionAdjustment.Reason.TRANSFER_REVERSAL))),
        open=Sum("amount", filter=Q(status=AdjustmentStatus.OPEN), default=0),
        in_payout=Sum("amount", filter=Q(status=AdjustmentStatus.IN_PAYOUT), default=0),
        applied=Sum("amount", filter=Q(status=AdjustmentStatus.APPLIED), default=0),
    )
    data = {
        "pending": c["pending"],
        "held": c["held"],
        "in_payout": c["in_payout"] + a["in_payout"],
        "paid": c["paid"] + a["applied"],
        "clawed_back": c["reduced"] - a["clawed"],
        "open_adjustments": a["open"],
    }
    return with_usd(data, *list(data))


def payout_get(*, payout_id, broker: Broker | None = None) -> Payout:
    """One payout; for a broker only its own (another broker's payout is 'not found')."""
    return broker_scoped_get(Payout.objects.select_related("broker"), pk=payout_id, broker=broker,
                             not_found=NotFound("No such payout.", code="PAYOUT_NOT_FOUND"))


def payout_summary(payout: Payout) -> dict:
    data = {
        "id": str(payout.pk),
        "broker_id": str(payout.broker_id),
        "broker_name": str(payout.broker),
        "period": payout.period_start.strftime("%Y-%m"),
        "period_start": payout.period_start.isoformat(),
        "period_end": payout.period_end.isoformat(),
        "status": payout.status,
        "commission_count": payout.commission_count,
        "adjustment_count": payout.adjustment_count,
        "payment_method": payout.payment_method,
        "transaction_id": payout.transaction_id,
        "notes": payout.notes,
        "processed_at": payout.processed_at.isoformat() if payout.processed_at else None,
        "created_at": payout.created_at.isoformat(),
        **{name: getattr(payout, name) for name in MONEY_TOTALS},
    }
    return with_usd(data, *MONEY_TOTALS)


def payout_list_pending() -> list[dict]:
    payouts = Payout.objects.select_related("broker").filter(status=PayoutStatus.PENDING).order_by("created_at")
    return [payout_summary(p) for p in payouts]


def payout_list_for_broker(*, broker: Broker, page: int = 1, limit: int = 20, status: str | None = None) -> dict:
    """A broker's payout history, newest period first, with a summary of completed payouts."""
    if page < 1 or not (1 <= limit <= 100):
        raise ValidationFailed("page must be ≥ 1 and limit 1..100.", code="INVALID_PAGINATION")
    qs = Payout.objects.select_related("broker").filter(broker=broker)
    if status:
        if status not in PayoutStatus.values:
            raise ValidationFailed(f"Unknown status {status!r}.", code="INVALID_STATUS",
                                   details={"allowed": list(PayoutStatus.values)})
        qs = qs.filter(status=status)
    total = qs.count()
    rows = qs.order_by("-period_start", "-created_at")[(page - 1) * limit: page * limit]
    summary = Payout.objects.filter(broker=broker, status=PayoutStatus.COMPLETED).aggregate(
        total_payouts=Count("id"),
        total_paid=Coalesce(Sum("total_amount"), 0),
        revenue_share_paid=Coalesce(Sum("total_revenue_share"), 0),
        markup_paid=Coalesce(Sum("total_markup"), 0),
        adjustments_applied=Coalesce(Sum("total_adjustments"), 0),
    )
    with_usd(summary, "total_paid", "revenue_share_paid", "markup_paid", "adjustments_applied")
    return {
        "payouts": [payout_summary(p) for p in rows],
        "pagination": {"page": page, "limit": limit, "total": total, "pages": (total + limit - 1) // limit},
        "summary": summary,
    }


# Order lines a payout's page lists (a big broker's payout has thousands; its CSV has them all).
PAGE_ORDER_LINES = 100


def _order_lines(payout: Payout):
    return (
        CommissionRecord.objects.of_payout(payout)
        .annotate(item_count=Count("order__items"))
        .order_by("order_paid_at", "order__order_number")
        .values("order__order_number", "order_paid_at", "order__customer_email", "order__total_charged",
                "revenue_share_amount", "markup_amount", "total_commission", "item_count")
    )


def _adjustment_lines(payout: Payout):
    return (
        CommissionAdjustment.objects.filter(payout=payout)
        .order_by("created_at", "key")
        .values("order__order_number", "created_at", "reason", "revenue_share_amount", "markup_amount", "amount",
                "note")
    )


def payout_report(*, payout: Payout, order_limit: int | None = None) -> dict:
    """The payout report: broker, period, totals, payment, one line per order and per adjustment.

    totals.total equals Σ orders.commission + Σ adjustments.amount, to the cent. With `order_limit`
    (a page showing a payout of thousands of orders) only the first order lines are listed;
    `order_count` still counts them all (the CSV and the API have every line).
    """
    lines = _order_lines(payout)
    if order_limit is not None:
        lines = lines[:order_limit]
    orders = [
        with_usd({
            "order_number": row["order__order_number"],
            "order_date": row["order_paid_at"].isoformat(),
            "customer": row["order__customer_email"],
            "items": row["item_count"],
            "order_total": row["order__total_charged"],
            "revenue_share": row["revenue_share_amount"],
            "markup": row["markup_amount"],
            "commission": row["total_commission"],
        }, "order_total", "revenue_share", "markup", "commission")
        for row in lines
    ]
    adjustments = [
        with_usd({
            "order_number": row["order__order_number"] or "",
            "date": row["created_at"].isoformat(),
            "reason": row["reason"],
            "revenue_share": row["revenue_share_amount"],
            "markup": row["markup_amount"],
            "amount": row["amount"],
            "note": row["note"],
        }, "revenue_share", "markup", "amount")
        for row in _adjustment_lines(payout)
    ]
    broker = payout.broker
    totals = with_usd({
        "revenue_share": payout.total_revenue_share,
        "markup": payout.total_markup,
        "adjustments": payout.total_adjustments,
        "total": payout.total_amount,
    }, "revenue_share", "markup", "adjustments", "total")
    return {
        "payout_id": str(payout.pk),
        "broker": {"id": str(broker.pk), "name": broker.name, "business_name": broker.business_name,
                   "email": broker.email},
        "period": {"start": payout.period_start.isoformat(), "end": payout.period_end.isoformat(),
                   "month": payout.period_start.strftime("%Y-%m")},
        "totals": totals,
        "payment": {"method": payout.payment_method, "status": payout.status,
                    "transaction_id": payout.transaction_id,
                    "processed_at": payout.processed_at.isoformat() if payout.processed_at else None},
        "orders": orders,
        # A limited page takes the payout's own count of its lines (set when the run took them).
        "order_count": len(orders) if order_limit is None or len(orders) < order_limit
        else payout.commission_count,
        "adjustments": adjustments,
        "adjustment_count": len(adjustments),
        "created_at": payout.created_at.isoformat(),
    }


CSV_HEADER = ["type", "order_number", "date", "customer", "items", "order_total_usd", "revenue_share_usd",
              "markup_usd", "commission_usd", "reason"]


def payout_report_csv(*, payout: Payout) -> str:
    """The report's lines as CSV (dollars as decimal strings), then a TOTAL line equal to their sum."""
    report = payout_report(payout=payout)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for line in report["orders"]:
        writer.writerow(["order", line["order_number"], line["order_date"], line["customer"], line["items"],
                         line["order_total_usd"], line["revenue_share_usd"], line["markup_usd"],
                         line["commission_usd"], ""])
    for line in report["adjustments"]:
        writer.writerow(["adjustment", line["order_number"], line["date"], "", "", "", line["revenue_share_usd"],
                         line["markup_usd"], line["amount_usd"], line["reason"]])
    lines = report["orders"] + report["adjustments"]
    share = sum(line["revenue_share"] for line in lines)
    markup = sum(line["markup"] for line in lines)
    writer.writerow(["total", "", report["period"]["month"], "", "", "", cents_to_usd(share), cents_to_usd(markup),
                     report["totals"]["total_usd"], ""])
    return out.getvalue()
