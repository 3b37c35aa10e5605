"""Yearly statements per broker and the operator's year-end (1099-NEC) export. Reads only.

A broker's statement for a calendar year (UTC), month by month, from the ledger itself:
- earned: the revenue share and markup of the orders paid in the month (the commissions' original
  amounts, as frozen on the order);
- clawed back: what refunds and lost disputes took back — reductions of commissions not yet paid
  out (counted in the month the order was paid) and the negative adjustments booked in the month;
- other adjustments: positive ones (a dispute reversed, money taken back from a transfer);
- paid out: each COMPLETED payout, in the month it was paid (processed_at), with its method and
  transaction id.
Every figure is one GROUP BY in SQL; nothing is summed in Python over rows.

The year-end export lists every broker paid TAX_REPORTING_THRESHOLD_CENTS or more in the year (by
payment date, UTC), with the payout method, the Connect account or the masked TIN, and a flag when
neither a submitted Connect account nor tax details are on file.
"""

import csv
import io
from datetime import datetime
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db.models import F, Sum
from django.db.models.functions import ExtractMonth

from tradeline.brokers.models import Broker
from tradeline.core.errors import ValidationFailed
from tradeline.core.money import cents_to_usd
from tradeline.payouts.models import (
    CommissionAdjustment,
    CommissionRecord,
    ConnectedAccount,
    Payout,
    PayoutStatus,
    TaxProfile,
)

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
FIGURES = ("earned_share", "earned_markup", "clawed_back", "other_adjustments", "paid_out")


def year_bounds(year: int) -> tuple[datetime, datetime]:
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ValidationFailed("Give a calendar year between 2000 and 2100.", code="INVALID_YEAR",
                               details={"year": year})
    return datetime(year, 1, 1, tzinfo=dt_timezone.utc), datetime(year + 1, 1, 1, tzinfo=dt_timezone.utc)


def _by_month(queryset, date_field: str, **sums) -> dict[int, dict]:
    rows = (queryset.annotate(m=ExtractMonth(date_field, tzinfo=dt_timezone.utc)).order_by().values("m")
            .annotate(**{name: Sum(expr, default=0) for name, expr in sums.items()}))
    return {row["m"]: row for row in rows}


def broker_statement(*, broker: Broker, year: int) -> dict:
    start, end = year_bounds(year)
    commissions = CommissionRecord.objects.filter(broker=broker, order_paid_at__gte=start, order_paid_at__lt=end)
    earned = _by_month(commissions, "order_paid_at", share=F("original_revenue_share"), markup=F("original_markup"),
                       reduced=F("original_revenue_share") + F("original_markup") - F("total_commission"))
    adjustments = CommissionAdjustment.objects.filter(broker=broker, created_at__gte=start, created_at__lt=end)
    negative = _by_month(adjustments.filter(amount__lt=0), "created_at", total=F("amount"))
    positive = _by_month(adjustments.filter(amount__gt=0), "created_at", total=F("amount"))
    payouts = list(Payout.objects.filter(broker=broker, status=PayoutStatus.COMPLETED, processed_at__gte=start,
                                         processed_at__lt=end).order_by("processed_at", "pk"))
    months = []
    for number, name in enumerate(MONTHS, start=1):
        row = earned.get(number, {})
        line = {
            "month": f"{year:04d}-{number:02d}", "name": name,
            "earned_share": row.get("share", 0), "earned_markup": row.get("markup", 0),
            "clawed_back": row.get("reduced", 0) - negative.get(number, {}).get("total", 0),
            "other_adjustments": positive.get(number, {}).get("total", 0),
            "paid_out": sum(p.total_amount for p in payouts if p.processed_at.month == number),
        }
        months.append(_usd(line))
    totals = {name: sum(m[name] for m in months) for name in FIGURES}
    totals["earned"] = totals["earned_share"] + totals["earned_markup"]
    totals["net_earned"] = totals["earned"] - totals["clawed_back"] + totals["other_adjustments"]
    return {
        "broker_id": str(broker.pk), "broker_name": broker.business_name or broker.name, "year": year,
        "months": months, "totals": _usd(totals),
        "payouts": [_usd({"payout_id": str(p.pk), "period": f"{p.period_start:%Y-%m}",
                          "paid_at": p.processed_at.isoformat(), "payment_method": p.payment_method,
                          "transaction_id": p.transaction_id, "amount": p.total_amount}) for p in payouts],
    }


def _usd(row: dict) -> dict:
    out = dict(row)
    for name, value in row.items():
        if name in FIGURES or name in ("amount", "earned", "net_earned"):
            out[f"{name}_usd"] = cents_to_usd(value)
    return out


def broker_statement_csv(statement: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["broker", statement["broker_name"], "year", statement["year"]])
    writer.writerow(["month", "earned share", "earned markup", "clawed back", "other adjustments", "paid out"])
    for m in [*statement["months"], {**statement["totals"], "month": "total"}]:
        writer.writerow([m["month"], *(m[f"{name}_usd"] for name in FIGURES)])
    writer.writerow([])
    writer.writerow(["payout", "period", "paid at (UTC)", "method", "transaction id", "amount"])
    for p in statement["payouts"]:
        writer.writerow([p["payout_id"], p["period"], p["paid_at"], p["payment_method"], p["transaction_id"],
                         p["amount_usd"]])
    return out.getvalue()


def tax_year_rows(*, year: int) -> list[dict]:
    """Brokers paid at least TAX_REPORTING_THRESHOLD_CENTS in the year (COMPLETED payouts by processed_at)."""
    start, end = year_bounds(year)
    paid = (Payout.objects.filter(status=PayoutStatus.COMPLETED, processed_at__gte=start, processed_at__lt=end)
            .order_by().values("broker_id").annotate(total=Sum("total_amount"))
            .filter(total__gte=settings.TAX_REPORTING_THRESHOLD_CENTS))
    totals = {row["broker_id"]: row["total"] for row in paid}
    methods: dict = {}
    for broker_id, method in (Payout.objects.filter(broker_id__in=list(totals), status=PayoutStatus.COMPLETED,
                                                    processed_at__gte=start, processed_at__lt=end)
                              .order_by().values_list("broker_id", "payment_method").distinct()):
        methods.setdefault(broker_id, set()).add(method)
    accounts = {a.broker_id: a for a in ConnectedAccount.objects.filter(broker_id__in=list(totals))}
    profiles = {p.broker_id: p for p in TaxProfile.objects.filter(broker_id__in=list(totals))}
    rows = []
    for broker in Broker.objects.filter(pk__in=list(totals)).order_by("name", "pk"):
        account, profile = accounts.get(broker.pk), profiles.get(broker.pk)
        rows.append({
            "broker_id": str(broker.pk), "broker_name": broker.business_name or broker.name, "email": broker.email,
            "paid_total": totals[broker.pk], "paid_total_usd": cents_to_usd(totals[broker.pk]),
            "payout_method": "/".join(sorted(methods.get(broker.pk, ()))),
            "connect_account": account.stripe_account_id if account else "",
            "legal_name": profile.legal_name if profile else "",
            "tin_type": profile.tin_type if profile else "",
            "tin_masked": profile.tin_masked if profile else "",
            "missing_tax_details": not profile and not (account and account.details_submitted),
        })
    return rows


def tax_year_csv(*, year: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    columns = ["broker_id", "broker_name", "email", "paid_total_usd", "payout_method", "connect_account",
               "legal_name", "tin_type", "tin_masked", "missing_tax_details"]
    writer.writerow(columns)
    for row in tax_year_rows(year=year):
        writer.writerow([("yes" if row[c] else "no") if c == "missing_tax_details" else row[c] for c in columns])
    return out.getvalue()
