"""The stages of a tradeline after the supplier accepted the order, and the dates we expect them.

placed -> added as authorized user -> reporting (posted) -> completed, from the supplier's order
status (WooCommerce statuses; the supplier's custom ones for the middle stages). cancelled,
refunded and failed at the supplier are problems an admin must look at: never refunded by us
automatically. Pure functions: no database.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import models


class PostingStage(models.TextChoices):
    PLACED = "PLACED", "Placed with the supplier"
    AUTHORIZED_USER = "AUTHORIZED_USER", "Added as authorized user"
    REPORTING = "REPORTING", "Reporting (posted)"
    COMPLETED = "COMPLETED", "Completed"
    CANCELLED = "CANCELLED", "Cancelled by the supplier"
    REFUNDED = "REFUNDED", "Refunded by the supplier"
    FAILED = "FAILED", "Failed at the supplier"


# The supplier's order status -> our stage. Unknown statuses (pending, on-hold, ...) keep the stage.
SUPPLIER_STAGES = {
    "processing": PostingStage.PLACED,
    "au-added": PostingStage.AUTHORIZED_USER,
    "authorized-user": PostingStage.AUTHORIZED_USER,
    "reporting": PostingStage.REPORTING,
    "posted": PostingStage.REPORTING,
    "completed": PostingStage.COMPLETED,
    "cancelled": PostingStage.CANCELLED,
    "refunded": PostingStage.REFUNDED,
    "failed": PostingStage.FAILED,
}
PROBLEM_STAGES = frozenset({PostingStage.CANCELLED, PostingStage.REFUNDED, PostingStage.FAILED})
# Supplier statuses after which an order is no longer polled.
FINAL_SUPPLIER_STATUSES = frozenset({"completed", "cancelled", "refunded", "failed", "trash"})
PROGRESS = (PostingStage.PLACED, PostingStage.AUTHORIZED_USER, PostingStage.REPORTING, PostingStage.COMPLETED)


def stage_for(supplier_status: str) -> str | None:
    return SUPPLIER_STAGES.get((supplier_status or "").strip().lower())


_MONTHS = {name: n for n, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}


def parse_deadline(text: str) -> date | None:
    """The supplier's purchase deadline: "2026-12-15" or "Dec 15, 2026" (None when unreadable)."""
    text = (text or "").strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    match = re.match(r"([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})", text)
    if match and match[1].lower() in _MONTHS:
        try:
            return date(int(match[3]), _MONTHS[match[1].lower()], int(match[2]))
        except ValueError:
            return None
    return None


def parse_reporting_days(text: str) -> tuple[int, int] | None:
    """The statement window's days of the month: "12th - 15th of the month", "Dec 12 - Dec 15"."""
    days = [int(n) for n in re.findall(r"(?<!\d)(\d{1,2})(?!\d)", text or "")]
    days = [d for d in days if 1 <= d <= 31]
    if not days:
        return None
    first, last = days[0], days[1] if len(days) > 1 else days[0]
    return (first, last) if last >= first else (first, first)


@dataclass(frozen=True)
class ExpectedDates:
    authorized_user_by: date | None
    reports_from: date | None
    reports_to: date | None


def _month_day(year: int, month: int, day: int) -> date:
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            day -= 1  # the 31st in a 30-day month: its last day


def expected_dates(*, purchase_deadline: str, reporting_period: str, ordered_at: datetime | None) -> ExpectedDates:
    """The customer is added before the purchase deadline; the card then reports in its first
    statement window after that day."""
    deadline = parse_deadline(purchase_deadline)
    window = parse_reporting_days(reporting_period)
    if deadline is None and ordered_at is not None:
        deadline = ordered_at.date() + timedelta(days=7)
    if deadline is None or window is None:
        return ExpectedDates(deadline, None, None)
    year, month = deadline.year, deadline.month
    if deadline.day >= window[0]:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return ExpectedDates(deadline, _month_day(year, month, window[0]), _month_day(year, month, window[1]))
