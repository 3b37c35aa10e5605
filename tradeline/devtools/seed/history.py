"""Demo history: past orders for the demo brokers, with refunds, disputes and monthly payouts.

Everything goes through the real services — orders.services.order_create, payments' paid, refund
and dispute services, the commission and payout services — so the dashboard, the portal and the
payout reports show what production would. The only liberty taken: the services stamp "now", so
each order's dates (and its commission's order_paid_at, and the broker's daily figures) are moved
back to a moment in the month being simulated right after the service call.

Idempotent: a database that already has demo history (payment references "DEMO-HISTORY-...") is
left alone. Skipped, with a message, when the demo brokers or the catalog are not there.
"""

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.contrib.auth import get_user_model
from django.utils import timezone

from tradeline.analytics.services import stats_increment
from tradeline.brokers.models import Broker, BrokerStatus
from tradeline.core.errors import ApplicationError
from tradeline.devtools.demo import DEMO_ADMIN_EMAIL
from tradeline.orders.models import Order
from tradeline.payouts.models import CommissionRecord
from tradeline.payouts.services import payout_mark_paid, payout_run_month

logger = logging.getLogger(__name__)

REFERENCE_PREFIX = "DEMO-HISTORY-"
DEMO_BROKER_DOMAIN = "@demo.local"
CUSTOMERS = [
    ("Alex Morgan", "alex.morgan"), ("Priya Shah", "priya.shah"), ("Jordan Lee", "jordan.lee"),
    ("Maria Garcia", "maria.garcia"), ("Sam Carter", "sam.carter"), ("Chen Wei", "chen.wei"),
    ("Olivia Brown", "olivia.brown"), ("Diego Ramos", "diego.ramos"), ("Fatima Noor", "fatima.noor"),
    ("Liam O'Connor", "liam.oconnor"), ("Grace Kim", "grace.kim"), ("Noah Fischer", "noah.fischer"),
]


@dataclass
class Summary:
    months: list[str] = field(default_factory=list)
    orders: int = 0
    refunds: int = 0
    disputes: int = 0
    payouts: int = 0
    skipped: str = ""

    def as_dict(self) -> dict:
        if self.skipped:
            return {"skipped": self.skipped}
        return {"months": self.months, "orders": self.orders, "refunds": self.refunds, "disputes": self.disputes,
                "payouts": self.payouts}


def _services():
    """The services of the other parts, or None when one of them is not there (yet)."""
    try:
        from tradeline.catalog.selectors import checkout_catalog
        from tradeline.orders.services import order_create
        from tradeline.payments.services.disputes import order_dispute_closed, order_dispute_opened
        from tradeline.payments.services.paid import order_payment_record
        from tradeline.payments.services.refunds import refund_total_apply
    except ImportError as exc:
        return None, str(exc)
    return {
        "checkout_catalog": checkout_catalog, "order_create": order_create, "order_payment_record": order_payment_record,
        "refund_total_apply": refund_total_apply, "order_dispute_opened": order_dispute_opened,
        "order_dispute_closed": order_dispute_closed,
    }, ""


def past_months(count: int, now: datetime) -> list[tuple[int, int]]:
    """The `count` full UTC months before the current one, oldest first."""
    year, month = now.year, now.month
    result = []
    for _ in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        result.append((year, month))
    return list(reversed(result))


def _moment(rng: random.Random, year: int, month: int) -> datetime:
    start = datetime(year, month, 1, tzinfo=dt_timezone.utc)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=dt_timezone.utc)
    return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


def _move_day_figures(broker_id, from_day, to_day, **deltas) -> None:
    """The services count a sale/refund on today's figures; move it to the simulated day."""
    if from_day == to_day:
        return
    stats_increment(broker_id=broker_id, day=from_day, **{k: -v for k, v in deltas.items()})
    stats_increment(broker_id=broker_id, day=to_day, **deltas)


class _Seeder:
    def __init__(self, services: dict, admin, rng: random.Random, summary: Summary):
        self.s = services
        self.admin = admin
        self.rng = rng
        self.summary = summary
        self.catalog = [entry for entry in services["checkout_catalog"]().values() if entry.stock > 0]
        self.seq = 0
        self.visits = random.Random(20261002)  # its own stream: the orders stay as they were

    def paid_order(self, broker: Broker, when: datetime) -> Order:
        self.seq += 1
        name, handle = self.rng.choice(CUSTOMERS)
        cards = self.rng.sample(self.catalog, k=min(len(self.catalog), self.rng.choice((1, 1, 1, 2))))
        order = self.s["order_create"](broker=broker, customer_email=f"{handle}{self.seq}@example.com",
                                      customer_name=name, items=[(c.card_id, 1) for c in cards])
        self.s["order_payment_record"](order_id=order.pk, amount=order.total_charged, currency=order.currency,
                                       method="WIRE", reference=f"{REFERENCE_PREFIX}{self.seq:04d}",
                                       actor_user=self.admin)
        order.refresh_from_db()
        today = order.paid_at.date()
        Order.objects.filter(pk=order.pk).update(created_at=when - timedelta(minutes=self.rng.randint(2, 40)),
                                                 paid_at=when, updated_at=when)
        order.payments.update(paid_at=when, created_at=when)  # the paying payment: the order's summary source
        CommissionRecord.objects.filter(order_id=order.pk).update(order_paid_at=when, created_at=when)
        _move_day_figures(broker.pk, today, when.date(), orders_count=1, total_sales=order.total_charged,
                          revenue_share_earned=order.broker_revenue_share, markup_earned=order.broker_markup)
        self.funnel(broker, when)
        self.summary.orders += 1
        order.refresh_from_db()
        return order

    def funnel(self, broker: Broker, when: datetime) -> None:
        """The shop visits that led to one paid order: widget views, unique visitors, cart adds and a
        checkout start on the order's day, so the funnel's conversion stays a true share (<= 100 %)."""
        views = self.visits.randint(18, 60)
        visitors = max(1, views * self.visits.randint(55, 85) // 100)
        cart_adds = min(visitors, self.visits.randint(2, 6))
        stats_increment(broker_id=broker.pk, day=when.date(), widget_loads=views, unique_visitors=visitors,
                        cart_adds=cart_adds, checkout_starts=min(cart_adds, self.visits.randint(1, 2)))

    def refund(self, order: Order, amount_refunded: int, when: datetime) -> None:
        when = min(when, timezone.now())
        before = order.amount_refunded
        today = timezone.now().date()
        self.s["refund_total_apply"](order_id=order.pk, amount_refunded=amount_refunded, actor_user=self.admin)
        Order.objects.filter(pk=order.pk, refunded_at__isnull=False).update(refunded_at=when)
        _move_day_figures(order.broker_id, today, when.date(), refunds_count=1,
                          refunded_amount=amount_refunded - before)
        self.summary.refunds += 1
        order.refresh_from_db()

    def dispute(self, order: Order, *, outcome: str | None) -> None:
        self.s["order_dispute_opened"](order_id=order.pk, dispute_id=f"dp_demo_{order.order_number}",
                                       reason="fraudulent")
        if outcome is not None:
            self.s["order_dispute_closed"](order_id=order.pk, won=outcome == "won",
                                           dispute_id=f"dp_demo_{order.order_number}", status=outcome)
        self.summary.disputes += 1


def seed(env: dict | None = None, *, months: int | None = None) -> dict:
    """Seed `months` (default DEMO_HISTORY_MONTHS or 3) past months of history; see the module doc."""
    env = env or {}
    months = months or int(env.get("DEMO_HISTORY_MONTHS") or 3)
    summary = Summary()
    if Order.objects.filter(payments__reference__startswith=REFERENCE_PREFIX).exists():
        summary.skipped = "demo history already present"
        return {"demo_history": summary.as_dict()}
    services, missing = _services()
    if services is None:
        summary.skipped = f"the order/payment services are not available ({missing})"
        return {"demo_history": summary.as_dict()}
    brokers = list(Broker.objects.filter(status=BrokerStatus.ACTIVE, email__endswith=DEMO_BROKER_DOMAIN)
                   .order_by("email"))
    if not brokers:
        summary.skipped = "no ACTIVE demo broker (run the brokers demo seed first)"
        return {"demo_history": summary.as_dict()}

    admin = get_user_model().objects.filter(username=DEMO_ADMIN_EMAIL).first()
    rng = random.Random(20261001)
    try:
        seeder = _Seeder(services, admin, rng, summary)
    except ApplicationError as exc:
        summary.skipped = f"the catalog is not available ({exc.code})"
        return {"demo_history": summary.as_dict()}
    if not seeder.catalog:
        summary.skipped = "the catalog has no tradeline in stock"
        return {"demo_history": summary.as_dict()}

    now = timezone.now()
    periods = past_months(months, now)
    for index, (year, month) in enumerate(periods):
        last = index == len(periods) - 1
        summary.months.append(f"{year:04d}-{month:02d}")
        for broker in brokers:
            orders = sorted((seeder.paid_order(broker, _moment(rng, year, month)) for _ in range(rng.randint(6, 10))),
                            key=lambda o: o.paid_at)
            # Before the month is paid out: a partial refund, a full refund, a dispute (won, or still open).
            seeder.refund(orders[1], orders[1].total_charged // 4, orders[1].paid_at + timedelta(days=2))
            seeder.refund(orders[2], orders[2].total_charged, orders[2].paid_at + timedelta(days=1))
            seeder.dispute(orders[3], outcome=None if last else "won")
        for result in payout_run_month(year=year, month=month, actor_user=admin):
            if result.outcome != "created":
                continue
            summary.payouts += 1
            if not last:  # the latest month's payouts wait for an admin to process them
                payout_mark_paid(payout_id=result.payout.pk, transaction_id=f"DEMO-ACH-{year:04d}{month:02d}-"
                                 f"{summary.payouts:03d}", notes="demo history", actor_user=admin)
        for broker in brokers:
            # After the payout: clawbacks that the next payout deducts.
            paid_out = list(Order.objects.filter(broker=broker, commission__payout__isnull=False,
                                                 amount_refunded=0, dispute_status="NONE",
                                                 paid_at__year=year, paid_at__month=month).order_by("paid_at")[:2])
            if paid_out:
                order = paid_out[0]
                seeder.refund(order, order.total_charged // 2, now - timedelta(days=rng.randint(1, 5)))
            if len(paid_out) > 1 and not last:
                seeder.dispute(paid_out[1], outcome="lost")
    logger.info("demo history: %s", summary.as_dict())
    return {"demo_history": summary.as_dict()}
