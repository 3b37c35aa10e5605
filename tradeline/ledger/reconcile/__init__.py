"""Ledger reconciliation: every money invariant of the marketplace, checked against the database
(and, unless skipped, against Stripe).

    report = reconcile_run(since=date(2026, 11, 1), stripe=True, on_discrepancy=print, progress=print)
    report.total  # number of discrepancies (0: the books balance)

What is checked (codes in `CODES`):
- per order: the frozen totals equal the sums of its items, each unit's platform commission and
  revenue share follow from the frozen percentages, a paid order's money splits exactly into
  supplier cost + platform net + broker earnings, refunded <= paid, and the order, payment and
  refund states agree with the amounts; money taken minus refunded, over all its payments, equals
  what its one paying payment kept (an unrefunded excess payment past its grace period is not);
- commissions: exactly one per paid broker order (none for unpaid orders or direct sales), built
  from the order's frozen share and markup, clawed back exactly as the order's cumulative refunds
  (or a lost dispute) call for, with a status that matches its payout and the dispute;
- payouts: a live payout's totals equal the sums of its commission and adjustment lines; failed and
  cancelled payouts hold no lines; lines belong to the payout's broker and period;
- per broker: commissions earned - clawbacks == what payouts took + what is still pending, and the
  daily analytics add up to the paid orders;
- Stripe (tradeline.ledger.reconcile.stripe_checks): each order agrees with its Checkout Session,
  payment intent, charge (refunded amount, dispute) and refunds;
- payouts sent with Stripe Connect (tradeline.ledger.reconcile.transfers): each sent payout agrees
  with its Transfer (amount, destination, transfer group, reversals), here and at Stripe.

Set-based SQL does the work: the database returns only the rows that disagree. The few checks that
need arithmetic per row (clawbacks of refunded orders, Stripe look-ups) stream their rows in chunks.
Nothing here writes.
"""

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from tradeline.ledger.reconcile import ledger, stripe_checks, transfers

CODES = {
    # orders
    "ORDER_ITEMS_MISMATCH": "the order's frozen totals differ from the sums of its items",
    "ORDER_NO_ITEMS": "the order has no items",
    "ITEM_PRICING": "an item's platform commission or revenue share does not follow from the frozen percentages",
    "DIRECT_SALE_EARNINGS": "a direct sale (no broker) carries broker share or markup",
    "PAID_SPLIT": "paid != supplier cost + platform net + broker earnings",
    "UNPAID_WITH_MONEY": "an unpaid order records money paid or refunded",
    "PAID_WITHOUT_MONEY": "a paid order records no payment",
    "REFUND_EXCEEDS_PAID": "refunded more than paid",
    "REFUND_STATE": "the payment/order status does not match the refunded amount",
    "LOCAL_REFUNDS_EXCEED": "refunds recorded here add up to more than the order's refunded total",
    "ORDER_STATUS": "the order status does not match its payment status",
    "PAYMENT_SUMMARY": "the order's payment summary differs from its paying Payment (or it has money and none)",
    "FULFILLMENT_SUMMARY": "the order's fulfillment status differs from its SupplierOrder",
    "MONEY_KEPT": "money taken - refunded differs from what the paying payment kept (an excess payment not "
                  "refunded within the grace period)",
    # commissions
    "MISSING_COMMISSION": "a paid broker order has no commission",
    "UNEXPECTED_COMMISSION": "an unpaid order or a direct sale has a commission",
    "COMMISSION_ORDER_MISMATCH": "the commission's broker, originals or paid time differ from its order",
    "COMMISSION_CLAWBACK": "the commission's clawback differs from what the order's refunds/dispute call for",
    "COMMISSION_STATUS": "the commission's status does not match its payout or dispute",
    "ADJUSTMENT_STATUS": "the adjustment's status or owner does not match its payout or commission",
    # payouts and brokers
    "PAYOUT_LINES": "the payout's totals differ from the sums of its lines",
    "PAYOUT_DEAD_LINES": "a failed/cancelled payout still holds commission or adjustment lines",
    "PAYOUT_LINE_OWNER": "a payout line belongs to another broker or to an order paid after the period",
    "BROKER_LEDGER": "earned - clawbacks != paid out + pending",
    "ANALYTICS_MISMATCH": "the broker's daily figures do not add up to its paid orders",
    # Stripe
    "STRIPE_OBJECT_MISSING": "Stripe does not know the session/payment/charge/refund we recorded",
    "STRIPE_SESSION_MISMATCH": "the Checkout Session names another order or amount",
    "STRIPE_PAID_NOT_RECORDED": "Stripe says paid, the order is not",
    "STRIPE_EXPIRED_STILL_PENDING": "Stripe expired the session, the order is still PENDING",
    "STRIPE_SESSION_STILL_OPEN": "the order ended unpaid but its Checkout Session can still be paid",
    "STRIPE_PAYMENT_MISMATCH": "the payment intent is not succeeded or its amount differs from what we recorded",
    "STRIPE_PAYMENT_UNKNOWN": "a Stripe-paid order has no payment intent recorded",
    "STRIPE_REFUNDED_MISMATCH": "Stripe's refunded amount differs from the order's",
    "STRIPE_DISPUTE_MISMATCH": "Stripe's dispute flag differs from the order's dispute status",
    "STRIPE_REFUND_MISMATCH": "a refund we recorded is missing at Stripe or differs there",
    # payouts sent with Stripe Connect (transfers.py)
    **transfers.CODES,
}

KEPT_MAX = 10_000  # discrepancies kept in the report object (all of them are passed to on_discrepancy)


@dataclass(frozen=True)
class Discrepancy:
    code: str
    entity: str  # order | commission | adjustment | payout | broker
    ref: str  # order number, payout id, broker id ...
    message: str

    def line(self) -> str:
        return f"{self.code} {self.entity} {self.ref}: {self.message}"


@dataclass
class ReconcileReport:
    since: datetime | None
    stripe: bool
    counts: Counter = field(default_factory=Counter)  # discrepancies per code
    discrepancies: list[Discrepancy] = field(default_factory=list)  # the first KEPT_MAX
    checked: dict = field(default_factory=dict)  # rows looked at: orders, commissions, payouts, brokers, stripe
    stripe_errors: int = 0  # Stripe look-ups that failed (network, 5xx): the Stripe check is incomplete
    stripe_failure_reasons: Counter = field(default_factory=Counter)  # why they failed: reason -> orders
    stripe_failed_orders: list[tuple[str, str]] = field(default_factory=list)  # the first KEPT_MAX (number, why)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def codes(self) -> set[str]:
        return set(self.counts)

    def summary(self) -> str:
        scope = ", ".join(f"{n:,} {name}" for name, n in self.checked.items())
        if self.total:
            per_code = ", ".join(f"{code} {n}" for code, n in sorted(self.counts.items()))
            head = f"{self.total:,} discrepanc{'y' if self.total == 1 else 'ies'} ({per_code})"
        else:
            head = "0 discrepancies"
        tail = ""
        if self.stripe_errors:
            reasons = "; ".join(f"{why} ({n:,} order{'s' if n != 1 else ''})"
                                for why, n in self.stripe_failure_reasons.most_common(3))
            tail = f"; {self.stripe_errors:,} Stripe look-ups failed (Stripe check incomplete): {reasons}"
        return f"{head} in {scope} ({self.seconds:.1f}s){tail}"


class Collector:
    """Receives discrepancies from the checks: counts them, keeps the first KEPT_MAX, passes each on."""

    def __init__(self, report: ReconcileReport, on_discrepancy: Callable[[Discrepancy], None] | None):
        self.report = report
        self.on_discrepancy = on_discrepancy

    def stripe_failed(self, order_number: str, why: str) -> None:
        self.report.stripe_failure_reasons[why] += 1
        if len(self.report.stripe_failed_orders) < KEPT_MAX:
            self.report.stripe_failed_orders.append((order_number, why))

    def add(self, code: str, entity: str, ref, message: str) -> None:
        assert code in CODES, code
        item = Discrepancy(code, entity, str(ref), message)
        self.report.counts[code] += 1
        if len(self.report.discrepancies) < KEPT_MAX:
            self.report.discrepancies.append(item)
        if self.on_discrepancy is not None:
            self.on_discrepancy(item)


def _as_datetime(since) -> datetime | None:
    from datetime import UTC, time

    if since is None or isinstance(since, datetime):
        return since
    if isinstance(since, date):
        return datetime.combine(since, time.min, tzinfo=UTC)
    raise TypeError("since must be a date or a datetime")


def reconcile_run(*, since: date | datetime | None = None, stripe: bool = True,
                  on_discrepancy: Callable[[Discrepancy], None] | None = None,
                  progress: Callable[[str], None] | None = None, stripe_workers: int = 8) -> ReconcileReport:
    """Check every invariant (see the module doc); returns the report. Reads only.

    `since` limits the per-order checks and the Stripe look-ups to orders created from then on (UTC
    midnight for a date) and the payout checks to periods ending after it; the per-broker ledger
    always covers everything (it is one aggregate per broker).
    """
    started = time.perf_counter()
    since_dt = _as_datetime(since)
    report = ReconcileReport(since=since_dt, stripe=stripe)
    collector = Collector(report, on_discrepancy)
    say = progress or (lambda line: None)
    ledger.check_all(collector, since=since_dt, say=say)
    transfers.check_records(collector, since=since_dt, say=say)
    if stripe:
        stripe_checks.check_all(collector, since=since_dt, say=say, workers=stripe_workers)
        transfers.check_stripe(collector, since=since_dt, say=say, workers=stripe_workers)
    report.seconds = time.perf_counter() - started
    return report


__all__ = ["CODES", "Discrepancy", "ReconcileReport", "reconcile_run"]
