"""A seeded, randomized month-by-month marketplace, driven only through the real services and the
real webhook processing (events built like Stripe's, handed to `webhook_process`: the same code the
endpoint runs after the signature check).

Each simulated month: new orders across the brokers (and direct sales) end paid, declined and
expired, failed, paid after expiry, or paid with the wrong amount (some paid twice: the session and
the payment link, the second payment refunded as an excess payment); paid orders of this and earlier
months get partial and full refunds (sometimes reported before the payment), disputes open and
close won or lost; then the month's payouts run and are marked paid, cancelled or left pending.
Everything is recorded in `Tally` so the test can state what happened.
"""

import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from tradeline.brokers.models import MarkupType
from tradeline.catalog.models import Tradeline
from tradeline.orders.models import Order
from tradeline.orders.services import order_create
from tradeline.core.errors import Conflict
from tradeline.payments.services import (
    PaidOutcome,
    order_dispute_closed,
    order_payment_record,
    refund_create,
    refund_total_apply,
)
from tradeline.payments.webhooks import webhook_process
from tradeline.payouts.services import month_period, payout_cancel, payout_mark_paid, payout_run_month
from tradeline.payments.services import checkout_session_store

CATALOG_SIZE = 40
FIRST_MONTH = (2027, 1)  # payout periods are months after every order's real paid time


@dataclass
class Tally:
    outcomes: Counter = field(default_factory=Counter)
    payouts: Counter = field(default_factory=Counter)
    seconds: dict = field(default_factory=dict)
    orders: int = 0


def seed_catalog(rng: random.Random) -> list[str]:
    """A fresh supplier snapshot with awkward prices (odd cents, tiny and large)."""
    now = timezone.now()
    rows = []
    for n in range(CATALOG_SIZE):
        price = rng.choice([rng.randint(5_000, 400_000), rng.randint(101, 999) * 101, 33_333, 99_999, 100_000])
        rows.append(Tradeline(card_id=f"sim-{n:03d}", bank_name=f"Sim Bank {n % 7}", credit_limit=500_000 + n * 10_000,
                              date_opened="2015-03", purchase_deadline="2027-12-20", reporting_period="1st-5th",
                              stock=100, price=price, synced_at=now, is_available=True))
    Tradeline.objects.bulk_create(rows)
    return [row.card_id for row in rows]


def make_brokers(rng: random.Random, count: int) -> list:
    from tradeline.brokers.services import broker_approve, broker_create, broker_update_settings

    brokers = []
    for n in range(count):
        share = Decimal(rng.randint(1000, 2500)) / 100  # 10.00 .. 25.00, with fractions
        broker = broker_create(name=f"Sim Broker {n}", email=f"sim-broker-{n}@example.com",
                               revenue_share_percent=share)
        broker = broker_approve(broker_id=broker.pk)
        if rng.random() < 0.7:
            percent = Decimal(rng.randint(0, 4000)) / 100  # 0.00 .. 40.00 %
            broker = broker_update_settings(broker=broker, markup_type=MarkupType.PERCENTAGE, markup_percent=percent)
        else:
            broker = broker_update_settings(broker=broker, markup_type=MarkupType.FIXED,
                                            markup_fixed=rng.randint(0, 50_000))
        brokers.append(broker)
    return brokers


def _event(event_type: str, obj: dict) -> dict:
    return {"id": f"evt_sim_{uuid.uuid4().hex}", "object": "event", "type": event_type,
            "created": int(time.time()), "livemode": False, "data": {"object": obj}}


def _ids(order: Order) -> tuple[str, str, str]:
    h = order.pk.hex
    return f"cs_sim_{h}", f"pi_sim_{h}", f"ch_sim_{h}"


def _meta(order: Order) -> dict:
    return {"order_id": str(order.pk), "order_number": order.order_number,
            "broker_id": str(order.broker_id) if order.broker_id else "direct"}


def session_event(event_type: str, order: Order, *, payment_status: str = "paid", amount: int | None = None) -> dict:
    session_id, pi, _ = _ids(order)
    return _event(event_type, {
        "id": session_id, "object": "checkout.session", "payment_status": payment_status,
        "status": "complete" if event_type != "checkout.session.expired" else "expired",
        "payment_intent": pi, "amount_total": order.total_charged if amount is None else amount, "currency": "usd",
        "customer_details": {"email": order.customer_email, "name": "Sim Customer", "phone": "+15550100"},
        "metadata": _meta(order),
    })


def intent_event(event_type: str, order: Order) -> dict:
    _, pi, charge = _ids(order)
    succeeded = event_type == "payment_intent.succeeded"
    obj = {"id": pi, "object": "payment_intent", "status": "succeeded" if succeeded else "requires_payment_method",
           "amount": order.total_charged, "amount_received": order.total_charged if succeeded else 0,
           "currency": "usd", "latest_charge": charge, "metadata": _meta(order)}
    if not succeeded:
        obj["last_payment_error"] = {"code": "card_declined", "decline_code": "insufficient_funds"}
    return _event(event_type, obj)


def refunded_event(order: Order, amount_refunded: int, *, with_metadata: bool = True) -> dict:
    _, pi, charge = _ids(order)
    return _event("charge.refunded", {
        "id": charge, "object": "charge", "amount": order.total_charged, "amount_refunded": amount_refunded,
        "refunded": amount_refunded >= order.total_charged, "currency": "usd", "payment_intent": pi,
        "metadata": _meta(order) if with_metadata else {},
    })


def link_paid_events(order: Order) -> tuple[dict, dict]:
    """The customer also paid the order's payment link (its own session, intent and charge), and the
    refund Stripe reports once the automatic refund of that excess payment went through."""
    h = order.pk.hex
    pi, charge = f"pi_link_{h}", f"ch_link_{h}"
    completed = _event("checkout.session.completed", {
        "id": f"cs_link_{h}", "object": "checkout.session", "payment_status": "paid", "status": "complete",
        "payment_intent": pi, "amount_total": order.total_charged, "currency": "usd",
        "customer_details": {"email": order.customer_email, "name": "Sim Customer", "phone": "+15550100"},
        "metadata": _meta(order), "payment_link": f"plink_{h}",
    })
    refunded = _event("charge.refunded", {
        "id": charge, "object": "charge", "amount": order.total_charged, "amount_refunded": order.total_charged,
        "refunded": True, "currency": "usd", "payment_intent": pi, "metadata": _meta(order),
    })
    return completed, refunded


def dispute_event(event_type: str, order: Order, status: str) -> dict:
    _, pi, charge = _ids(order)
    return _event(event_type, {"id": f"dp_sim_{order.pk.hex}", "object": "dispute", "amount": order.total_charged,
                               "charge": charge, "payment_intent": pi, "reason": "fraudulent", "status": status,
                               "metadata": {}})


def deliver(evt: dict, *, copies: int = 1) -> str:
    """Process a built event like the endpoint does after verifying it (duplicates included)."""
    outcome = webhook_process(event=evt).status
    for _ in range(copies - 1):
        assert webhook_process(event=evt).status == "duplicate"
    return outcome


class Shard:
    """One stream of customers with its own random generator (shards run side by side on PostgreSQL)."""

    def __init__(self, *, seed: int, brokers: list, cards: list[str], tally: Tally):
        self.rng = random.Random(seed)
        self.brokers = brokers
        self.cards = cards
        self.tally = tally
        self.paid: list[Order] = []  # orders that went through the paid transition (refund/dispute candidates)
        self.disputed: list[Order] = []  # open disputes, closed in a later month

    # -- orders ----------------------------------------------------------------------------------

    def _cart(self) -> list[tuple[str, int]]:
        lines = self.rng.choice([1, 1, 1, 2, 2, 3])
        cards = self.rng.sample(self.cards, lines)
        return [(card, self.rng.choice([1, 1, 1, 2, 3, 5, 10])) for card in cards]

    def _new_order(self, n: int) -> Order:
        broker = None if self.rng.random() < 0.08 else self.rng.choice(self.brokers)
        order = order_create(broker=broker, customer_email=f"customer{n}@example.com", customer_name="Sim Customer",
                             items=self._cart())
        session_id, _, _ = _ids(order)
        checkout_session_store(order_id=order.pk, session_id=session_id, expires_at=order.checkout_expires_at)
        return order

    def _pay(self, order: Order) -> None:
        """The paid transition, by one of the ways money arrives (some signals repeated)."""
        way = self.rng.random()
        _, pi, charge = _ids(order)
        if way < 0.6:
            assert order_payment_record(order_id=order.pk, amount=order.total_charged, currency="usd", method="STRIPE",
                                   payment_intent=pi, charge_id=charge) == PaidOutcome.PAID
        elif way < 0.8:
            copies = 2 if self.rng.random() < 0.1 else 1
            assert deliver(session_event("checkout.session.completed", order), copies=copies) == "processed"
        elif way < 0.9:
            # Both paid signals, in either order: one transition.
            first, second = intent_event("payment_intent.succeeded", order), \
                session_event("checkout.session.completed", order)
            if self.rng.random() < 0.5:
                first, second = second, first
            assert deliver(first) == "processed"
            assert deliver(second) == "processed"
        elif way < 0.96:
            # Bank debit: completed unpaid, then the delayed success.
            assert deliver(session_event("checkout.session.completed", order, payment_status="unpaid")) == "processed"
            assert deliver(session_event("checkout.session.async_payment_succeeded", order)) == "processed"
        else:
            # A refund reported before the payment (events out of order): kept, applied when paid.
            refund = self.rng.randint(1, order.total_charged)
            assert deliver(refunded_event(order, refund, with_metadata=self.rng.random() < 0.5)) == "deferred"
            assert deliver(session_event("checkout.session.completed", order)) == "processed"
            self.tally.outcomes["refund_before_paid"] += 1
        self.paid.append(order)
        self.tally.outcomes["paid"] += 1

    def _paid_twice(self, order: Order) -> None:
        """The customer pays the payment link as well: an EXCESS payment (the order unchanged, no second
        commission or fulfillment), refunded in full; Stripe's `charge.refunded` for it touches only it."""
        completed, refunded = link_paid_events(order)
        assert deliver(completed, copies=2 if self.rng.random() < 0.2 else 1) == "processed"
        assert deliver(refunded) == "processed"
        self.tally.outcomes["excess_refunded"] += 1

    def _not_paid(self, order: Order, kind: float) -> None:
        if kind < 0.35:
            # Declined card (logged only), then the session expires.
            assert deliver(intent_event("payment_intent.payment_failed", order)) == "processed"
            assert deliver(session_event("checkout.session.expired", order, payment_status="unpaid")) == "processed"
            self.tally.outcomes["declined_then_expired"] += 1
        elif kind < 0.7:
            copies = 2 if self.rng.random() < 0.2 else 1
            assert deliver(session_event("checkout.session.expired", order, payment_status="unpaid"),
                           copies=copies) == "processed"
            self.tally.outcomes["expired"] += 1
        elif kind < 0.85:
            assert deliver(session_event("checkout.session.completed", order, payment_status="unpaid")) == "processed"
            assert deliver(session_event("checkout.session.async_payment_failed", order)) == "processed"
            self.tally.outcomes["async_failed"] += 1
        elif kind < 0.93:
            # Expired, then the money arrives anyway: recorded and held for an admin, no commission.
            assert deliver(session_event("checkout.session.expired", order, payment_status="unpaid")) == "processed"
            assert deliver(session_event("checkout.session.completed", order)) == "needs_review"
            self.tally.outcomes["paid_after_expiry"] += 1
        else:
            # The wrong amount: held for review, no commission.
            assert deliver(session_event("checkout.session.completed", order,
                                         amount=order.total_charged - 1)) == "needs_review"
            self.tally.outcomes["amount_mismatch"] += 1

    def orders(self, numbers: range) -> None:
        for n in numbers:
            order = self._new_order(n)
            if self.rng.random() < 0.78:
                self._pay(order)
                if self.rng.random() < 0.03:
                    self._paid_twice(order)
                if self.rng.random() < 0.03:  # a late expiry of the paid session changes nothing
                    assert deliver(session_event("checkout.session.expired", order)) == "processed"
                    self.tally.outcomes["expired_after_paid"] += 1
            else:
                self._not_paid(order, self.rng.random())
            self.tally.orders += 1

    # -- after the sale --------------------------------------------------------------------------

    def refunds_and_disputes(self) -> None:
        rng = self.rng
        candidates = rng.sample(self.paid, min(len(self.paid), max(1, len(self.paid) // 8)))
        for order in candidates:
            order.refresh_from_db(fields=["amount_paid", "amount_refunded", "dispute_status", "payment_status"])
            if order.dispute_status == "LOST":
                self._refund_after_lost_dispute(order)
                continue
            if order.dispute_status == "OPEN" or order.amount_refunded >= order.amount_paid:
                continue
            roll = rng.random()
            if order.dispute_status == "WON":  # the money came back to us: what remains may be refunded
                if roll < 0.7:
                    self._refund_to(order, rng.randint(order.amount_refunded + 1, order.amount_paid))
                    self.tally.outcomes["refund_after_won_dispute"] += 1
                continue
            if roll < 0.45:
                # Partial refund(s), cumulative as Stripe reports them.
                total = order.amount_refunded + rng.randint(1, max(1, (order.amount_paid - order.amount_refunded) // 2))
                self._refund_to(order, total)
                self.tally.outcomes["partial_refund"] += 1
            elif roll < 0.7:
                self._refund_to(order, order.amount_paid)
                self.tally.outcomes["full_refund"] += 1
            else:
                event = dispute_event("charge.dispute.created", order, "needs_response")
                assert deliver(event) == "processed"
                self.disputed.append(order)
                self.tally.outcomes["dispute_opened"] += 1

    def _refund_after_lost_dispute(self, order: Order) -> None:
        """An admin trying to refund a charge whose dispute was lost is refused before Stripe."""
        try:
            refund_create(order_id=order.pk, amount=None, admin=None, reason="after a lost dispute")
        except Conflict as exc:
            assert exc.code == "DISPUTE_LOST", exc.code
            self.tally.outcomes["refund_refused_after_lost_dispute"] += 1
            return
        raise AssertionError(f"order {order.order_number}: refunded after a lost dispute")

    def _refund_to(self, order: Order, total: int) -> None:
        if self.rng.random() < 0.5:
            refund_total_apply(order_id=order.pk, amount_refunded=total)
        else:
            assert deliver(refunded_event(order, total)) == "processed"
        if self.rng.random() < 0.2:  # the other path reports the same cumulative total: no change
            refund_total_apply(order_id=order.pk, amount_refunded=total)

    def close_disputes(self) -> None:
        still_open = []
        for order in self.disputed:
            if self.rng.random() < 0.3:
                still_open.append(order)
                continue
            if self.rng.random() < 0.5:
                assert order_dispute_closed(order_id=order.pk, won=False, status="lost")
                self.tally.outcomes["dispute_lost"] += 1
            else:
                assert deliver(dispute_event("charge.dispute.closed", order, "won")) == "processed"
                self.tally.outcomes["dispute_won"] += 1
        self.disputed = still_open


class Simulation:
    """`shards` customer streams run side by side (threads, one database connection each); the payout
    runs happen between the months, with every stream stopped."""

    def __init__(self, *, seed: int, orders: int, brokers: int = 50, months: int = 4, shards: int = 1):
        self.seed = seed
        self.rng = random.Random(seed)
        self.n_orders = orders
        self.n_brokers = brokers
        self.months = months
        self.n_shards = max(1, shards)
        self.tally = Tally()

    def _parallel(self, work) -> None:
        """Run work(shard) for every shard, in threads when there are several; re-raise the first error."""
        if len(self.shards) == 1:
            work(self.shards[0])
            return
        errors: list[BaseException] = []

        def run(shard: Shard) -> None:
            try:
                work(shard)
            except BaseException as exc:  # re-raised below, in the test's thread
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(shard,)) for shard in self.shards]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def _payouts(self, year: int, month: int, *, last: bool) -> None:
        _, period_end = month_period(year, month)
        results = payout_run_month(year=year, month=month, now=period_end + timedelta(hours=1))
        created = [r.payout for r in results if r.outcome == "created"]
        self.tally.payouts["created"] += len(created)
        self.tally.payouts["carried_over"] += sum(r.outcome == "below_minimum" for r in results)
        for payout in created:
            roll = self.rng.random()
            if roll < 0.7 or (last and roll < 0.85):
                payout_mark_paid(payout_id=payout.pk, transaction_id=f"ach-{payout.pk.hex[:12]}")
                self.tally.payouts["paid"] += 1
            elif roll < 0.85:
                payout_cancel(payout_id=payout.pk, reason="bank details changed")
                self.tally.payouts["cancelled"] += 1
            else:
                self.tally.payouts["left_pending"] += 1

    def run(self) -> Tally:
        started = time.perf_counter()
        cards = seed_catalog(self.rng)
        brokers = make_brokers(self.rng, self.n_brokers)
        tallies = [Tally() for _ in range(self.n_shards)]
        self.shards = [Shard(seed=self.seed * 100 + i, brokers=brokers, cards=cards, tally=tallies[i])
                       for i in range(self.n_shards)]
        self.tally.seconds["setup"] = time.perf_counter() - started
        started = time.perf_counter()
        per_month = self.n_orders // self.months
        year, month = FIRST_MONTH
        first = 0
        for index in range(self.months):
            count = per_month if index < self.months - 1 else self.n_orders - first
            slices = [range(first + i, first + count, self.n_shards) for i in range(self.n_shards)]
            first += count

            def month_of_sales(shard: Shard) -> None:
                shard.orders(slices[self.shards.index(shard)])
                shard.refunds_and_disputes()
                shard.close_disputes()

            self._parallel(month_of_sales)
            self._payouts(year, month, last=index == self.months - 1)
            # Refunds and disputes after the payout run: clawbacks become adjustments for next month.
            self._parallel(lambda shard: shard.refunds_and_disputes())
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        self.tally.seconds["orders"] = time.perf_counter() - started
        for tally in tallies:
            self.tally.outcomes.update(tally.outcomes)
            self.tally.orders += tally.orders
        return self.tally
