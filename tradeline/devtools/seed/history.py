"""Demo history: past orders for the demo brokers, with refunds, disputes and monthly payouts.

Everything goes through the real services — orders.services.order_create, payments' paid, refund
and dispute services, fulfillment at the supplier simulator, the commission and payout services —
so the dashboard, the portal and the payout reports show what production would. Each step runs
with Django's clock (`timezone.now`) set to the moment it would have happened (`_clock_at`), so
order numbers carry the month of their creation (TLM-2609-…), and every timestamp, activity entry,
commission, daily figure and payout is dated as it would have been. The seeded months also get the
widget loads and checkout starts their orders came from. Mail the services send for these old
orders is not sent.

The last full month is left for the admin to pay out (Payouts → Run a month); the months before it
are paid out and marked paid, and the clawbacks of refunds made after a payout wait for the next one.

Idempotent: a database that already has demo history (payment references "DEMO-HISTORY-...") is
left alone. Skipped, with a message, when the demo brokers or the catalog are not there.
"""

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.apps import apps
from django.contrib.auth import get_user_model
from django.test.utils import override_settings
from django.utils import timezone

from tradeline.analytics.services import stats_increment
from tradeline.brokers.models import Broker, BrokerStatus
from tradeline.core.errors import ApplicationError
from tradeline.catalog.selectors import checkout_catalog
from tradeline.core.models import TimeStampedModel
from tradeline.devtools.demo import DEMO_ADMIN_EMAIL
from tradeline.fulfillment.dispatch import fulfillment_place
from tradeline.orders.models import Order
from tradeline.orders.services import order_create
from tradeline.payments.services.disputes import order_dispute_closed, order_dispute_opened
from tradeline.payments.services.paid import order_payment_record
from tradeline.payments.services.refunds import refund_total_apply
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
    left_to_run: str = ""
    skipped: str = ""

    def as_dict(self) -> dict:
        if self.skipped:
            return {"skipped": self.skipped}
        return {"months": self.months, "orders": self.orders, "refunds": self.refunds, "disputes": self.disputes,
                "payouts": self.payouts, "left_to_run": self.left_to_run}


def _services() -> dict:
    return {
        "checkout_catalog": checkout_catalog, "order_create": order_create,
        "order_payment_record": order_payment_record, "fulfillment_place": fulfillment_place,
        "refund_total_apply": refund_total_apply, "order_dispute_opened": order_dispute_opened,
        "order_dispute_closed": order_dispute_closed, "payout_run_month": payout_run_month,
        "payout_mark_paid": payout_mark_paid,
    }


def past_months(count: int, now: datetime) -> list[tuple[int, int]]:
    """The `count` full UTC months before the current one, oldest first."""
    year, month = now.year, now.month
    result = []
    for _ in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        result.append((year, month))
    return list(reversed(result))


def _month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=dt_timezone.utc)


def _next_month_start(year: int, month: int) -> datetime:
    return datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=dt_timezone.utc)


@contextmanager
def _clock_at(moment: datetime) -> Iterator[None]:
    """Django's clock reads `moment` while the block runs: the services stamp the simulated time.

    Only `django.utils.timezone.now` is set (what services and `auto_now` call); the wall clock that
    HTTP signatures use is left alone. The rows the block created got their `created_at` from the
    default bound at import (the real clock): they are moved to `moment` afterwards. Seeding runs
    alone in its process (`tradeline demo_setup`), so nothing else writes meanwhile."""
    real = timezone.now
    started = real()
    timezone.now = lambda: moment
    try:
        yield
    finally:
        timezone.now = real
        for model in _timestamped_models():
            model.objects.filter(created_at__gte=started).update(created_at=moment)


def _timestamped_models() -> list:
    return [model for model in apps.get_models() if issubclass(model, TimeStampedModel)]


class _Seeder:
    def __init__(self, services: dict, admin, rng: random.Random, summary: Summary, now: datetime):
        self.s = services
        self.admin = admin
        self.rng = rng
        self.summary = summary
        self.now = now
        self.catalog = [entry for entry in services["checkout_catalog"]().values() if entry.stock > 0]
        self.seq = 0
        self.visits = random.Random(20261002)  # its own stream: the orders stay as they were

    def at(self, moment: datetime):
        """The clock for one step, never later than a minute before the real now."""
        return _clock_at(min(moment, self.now - timedelta(minutes=1)))

    def paid_order(self, broker: Broker, when: datetime) -> Order:
        """Created a few minutes before `when`, paid at `when`, placed at the supplier minutes later."""
        self.seq += 1
        name, handle = self.rng.choice(CUSTOMERS)
        cards = self.rng.sample(self.catalog, k=min(len(self.catalog), self.rng.choice((1, 1, 1, 2))))
        with self.at(when - timedelta(minutes=self.rng.randint(2, 40))):
            order = self.s["order_create"](broker=broker, customer_email=f"{handle}{self.seq}@example.com",
                                          customer_name=name, items=[(c.card_id, 1) for c in cards])
        with self.at(when):
            self.s["order_payment_record"](order_id=order.pk, amount=order.total_charged, currency=order.currency,
                                           method="WIRE", reference=f"{REFERENCE_PREFIX}{self.seq:04d}",
                                           actor_user=self.admin)
        with self.at(when + timedelta(minutes=self.rng.randint(1, 15))):
            self.s["fulfillment_place"](order_id=order.pk)
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
        with self.at(when):
            self.s["refund_total_apply"](order_id=order.pk, amount_refunded=amount_refunded, actor_user=self.admin)
        self.summary.refunds += 1
        order.refresh_from_db()

    def dispute(self, order: Order, *, opened: datetime, outcome: str | None = None,
                closed: datetime | None = None) -> None:
        with self.at(opened):
            self.s["order_dispute_opened"](order_id=order.pk, dispute_id=f"dp_demo_{order.order_number}",
                                           reason="fraudulent")
        if outcome is not None:
            with self.at(closed or opened + timedelta(days=10)):
                self.s["order_dispute_closed"](order_id=order.pk, won=outcome == "won",
                                               dispute_id=f"dp_demo_{order.order_number}", status=outcome)
        self.summary.disputes += 1

    def month(self, brokers: list[Broker], year: int, month: int, *, run_payout: bool) -> list[tuple[Broker, list]]:
        start, end = _month_start(year, month), _next_month_start(year, month)
        payout_at = end + timedelta(days=1, hours=9 + self.rng.randint(0, 4))  # the 2nd, in the morning
        before_payout = payout_at - timedelta(hours=12)
        seeded = []
        for broker in brokers:
            moments = sorted(start + timedelta(seconds=self.rng.randrange(int((end - start).total_seconds())))
                             for _ in range(self.rng.randint(6, 10)))
            orders = [self.paid_order(broker, when) for when in moments]
            # Before the month is paid out: a partial refund, a full refund, a dispute (won; still open in the
            # last month).
            self.refund(orders[1], orders[1].total_charged // 4, min(orders[1].paid_at + timedelta(days=2),
                                                                     before_payout))
            self.refund(orders[2], orders[2].total_charged, min(orders[2].paid_at + timedelta(days=1), before_payout))
            opened = min(orders[3].paid_at + timedelta(days=3), before_payout)
            if run_payout:
                self.dispute(orders[3], opened=opened, outcome="won", closed=min(opened + timedelta(days=8),
                                                                                 before_payout))
            else:
                self.dispute(orders[3], opened=opened)
            seeded.append((broker, orders))
        if run_payout:
            self._payouts(year, month, payout_at)
        return seeded

    def _payouts(self, year: int, month: int, payout_at: datetime) -> None:
        with self.at(payout_at):
            results = self.s["payout_run_month"](year=year, month=month, actor_user=self.admin)
        for result in results:
            if result.outcome != "created":
                continue
            self.summary.payouts += 1
            with self.at(payout_at + timedelta(days=2, hours=self.rng.randint(1, 6))):
                self.s["payout_mark_paid"](payout_id=result.payout.pk, transaction_id=f"DEMO-ACH-{year:04d}{month:02d}-"
                                           f"{self.summary.payouts:03d}", notes="demo history", actor_user=self.admin)

    def after_payout(self, seeded: list[tuple[Broker, list]], year: int, month: int) -> None:
        """Refunds and a lost dispute after the month was paid out: clawbacks the next payout deducts."""
        end = _next_month_start(year, month)
        for broker, orders in seeded:
            paid_out = [o for o in orders if o.amount_refunded == 0 and o.dispute_status == "NONE"][:2]
            if paid_out:
                order = paid_out[0]
                self.refund(order, order.total_charged // 2, end + timedelta(days=self.rng.randint(6, 12), hours=10))
            if len(paid_out) > 1:
                self.dispute(paid_out[1], opened=end + timedelta(days=self.rng.randint(4, 8), hours=15),
                             outcome="lost", closed=end + timedelta(days=self.rng.randint(14, 20), hours=11))


def seed(env: dict | None = None, *, months: int | None = None) -> dict:
    """Seed `months` (default DEMO_HISTORY_MONTHS or 3) past months of history; see the module doc."""
    env = env or {}
    months = months or int(env.get("DEMO_HISTORY_MONTHS") or 3)
    summary = Summary()
    if Order.objects.filter(payments__reference__startswith=REFERENCE_PREFIX).exists():
        summary.skipped = "demo history already present"
        earlier = (env.get("DEMO_PREVIOUS_CREDENTIALS") or {}).get("demo_history")
        return {"demo_history": earlier if isinstance(earlier, dict) and earlier else summary.as_dict()}
    services = _services()
    brokers = list(Broker.objects.filter(status=BrokerStatus.ACTIVE, email__endswith=DEMO_BROKER_DOMAIN)
                   .order_by("email"))
    if not brokers:
        summary.skipped = "no ACTIVE demo broker (run the brokers demo seed first)"
        return {"demo_history": summary.as_dict()}
    admin = get_user_model().objects.filter(username=DEMO_ADMIN_EMAIL).first()
    now = timezone.now()
    try:
        seeder = _Seeder(services, admin, random.Random(20261001), summary, now)
    except ApplicationError as exc:
        summary.skipped = f"the catalog is not available ({exc.code})"
        return {"demo_history": summary.as_dict()}
    if not seeder.catalog:
        summary.skipped = "the catalog has no tradeline in stock"
        return {"demo_history": summary.as_dict()}

    periods = past_months(months, now)
    # Mail about these old orders would be news to nobody: it is not sent.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        for index, (year, month) in enumerate(periods):
            last = index == len(periods) - 1
            summary.months.append(f"{year:04d}-{month:02d}")
            seeded = seeder.month(brokers, year, month, run_payout=not last)
            if not last:
                seeder.after_payout(seeded, year, month)
    summary.left_to_run = summary.months[-1]
    logger.info("demo history: %s", summary.as_dict())
    return {"demo_history": summary.as_dict()}

