"""Reconciliation against Stripe: each Stripe payment with a Checkout Session or money taken is
compared with what Stripe holds, through the gateway (stripe_gateway retrievals; the local Stripe server in
tests and `make run`).

The orders are streamed from the database in chunks; each chunk's look-ups run on a small thread
pool (plain values only cross into the threads, never ORM objects). A look-up that fails for a
transient reason (network, 5xx, no key) is counted in `report.stripe_errors`, not as a discrepancy:
the check is then incomplete and the command says why (and, with -v 2, for which orders).
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from tradeline.core.errors import ApplicationError, UpstreamError
from tradeline.orders.models import PAID_PAYMENT_STATES as PAID
from tradeline.orders.models import DisputeStatus, OrderStatus, PaymentMethod
from tradeline.payments import stripe_gateway
from tradeline.payments.models import Payment, Refund

CHUNK = 200
PROGRESS_EVERY = 1_000


@dataclass(frozen=True)
class OrderFacts:
    """One Stripe payment with its order's facts (the payment's own status, amounts and ids)."""

    pk: str
    number: str
    status: str
    payment_status: str
    payment_method: str
    total_charged: int
    currency: str
    amount_paid: int
    amount_refunded: int
    dispute_status: str
    session_id: str | None
    payment_intent: str | None
    charge_id: str | None
    refunds: tuple[tuple[str, int], ...]  # our SUCCEEDED refunds known to Stripe: (refund id, amount)


class _Missing(Exception):
    """Stripe answered 404 for an object we recorded."""


def _get(fn, object_id: str):
    try:
        return fn(object_id)
    except UpstreamError:
        raise
    except ApplicationError as exc:
        if exc.status == 404:
            raise _Missing(object_id) from None
        raise


def _check_session(facts: OrderFacts, found: list) -> None:
    try:
        session = _get(stripe_gateway.retrieve_checkout_session, facts.session_id)
    except _Missing:
        found.append(("STRIPE_OBJECT_MISSING", f"Stripe has no Checkout Session {facts.session_id}"))
        return
    metadata = session.get("metadata") or {}
    if metadata.get("order_id") not in (None, facts.pk) or session.get("amount_total") != facts.total_charged \
            or (session.get("currency") or "").lower() != (facts.currency or "").lower():
        found.append(("STRIPE_SESSION_MISMATCH",
                      f"session {facts.session_id}: order {metadata.get('order_id')}, amount "
                      f"{session.get('amount_total')} {session.get('currency')} vs ours {facts.total_charged} "
                      f"{facts.currency}"))
    status, payment_status = session.get("status"), session.get("payment_status")
    paid_here = facts.payment_status in PAID
    if payment_status == "paid" and not paid_here:
        found.append(("STRIPE_PAID_NOT_RECORDED",
                      f"session {facts.session_id} is paid at Stripe; the order is {facts.status} "
                      f"(payment {facts.payment_status})"))
    if status == "expired" and facts.status == OrderStatus.PENDING:
        found.append(("STRIPE_EXPIRED_STILL_PENDING", f"session {facts.session_id} expired; the order is PENDING"))
    if status == "open" and facts.status in (OrderStatus.CANCELLED, OrderStatus.FAILED):
        found.append(("STRIPE_SESSION_STILL_OPEN",
                      f"the order is {facts.status} but session {facts.session_id} is still open"))


def _check_payment(facts: OrderFacts, found: list) -> None:
    if not facts.payment_intent:
        found.append(("STRIPE_PAYMENT_UNKNOWN", f"paid by Stripe ({facts.payment_status}) with no payment intent"))
        return
    try:
        intent = _get(stripe_gateway.retrieve_payment_intent, facts.payment_intent)
    except _Missing:
        found.append(("STRIPE_OBJECT_MISSING", f"Stripe has no payment intent {facts.payment_intent}"))
        return
    received = intent.get("amount_received")
    if intent.get("status") != "succeeded" or received != facts.amount_paid:
        found.append(("STRIPE_PAYMENT_MISMATCH",
                      f"payment intent {facts.payment_intent} is {intent.get('status')} with {received} received; "
                      f"we recorded {facts.amount_paid} paid"))
    latest = intent.get("latest_charge")
    charge_id = facts.charge_id or (latest.get("id") if isinstance(latest, dict) else latest)
    if not charge_id:
        found.append(("STRIPE_OBJECT_MISSING", f"payment intent {facts.payment_intent} has no charge"))
        return
    try:
        charge = _get(stripe_gateway.retrieve_charge, charge_id)
    except _Missing:
        found.append(("STRIPE_OBJECT_MISSING", f"Stripe has no charge {charge_id}"))
        return
    if charge.get("amount_refunded") != facts.amount_refunded:
        found.append(("STRIPE_REFUNDED_MISMATCH",
                      f"charge {charge_id}: Stripe refunded {charge.get('amount_refunded')}, "
                      f"the order {facts.amount_refunded}"))
    disputed = bool(charge.get("disputed"))
    if disputed != (facts.dispute_status != DisputeStatus.NONE):
        found.append(("STRIPE_DISPUTE_MISMATCH",
                      f"charge {charge_id} disputed={disputed} at Stripe, dispute {facts.dispute_status} here"))
    if facts.refunds:
        theirs = {r.get("id"): r for r in stripe_gateway.list_refunds(charge_id)}
        for refund_id, amount in facts.refunds:
            refund = theirs.get(refund_id)
            if refund is None or refund.get("amount") != amount or refund.get("status") != "succeeded":
                state = "missing" if refund is None else f"{refund.get('status')} {refund.get('amount')}"
                found.append(("STRIPE_REFUND_MISMATCH", f"refund {refund_id} of {amount}: at Stripe {state}"))


def check_order(facts: OrderFacts) -> tuple[list[tuple[str, str]], str | None]:
    """([(code, message)], why) for one order; `why` says why Stripe could not be asked (else None)."""
    found: list[tuple[str, str]] = []
    try:
        if facts.session_id:
            _check_session(facts, found)
        if facts.payment_status in PAID and facts.payment_method == PaymentMethod.STRIPE:
            _check_payment(facts, found)
    except ApplicationError as exc:  # UpstreamError, or an unexpected rejection: Stripe could not be asked
        return found, f"{exc.code}: {exc.message}"
    return found, None


def _facts(since: datetime | None):
    payments = Payment.objects.order_by("order__created_at", "order_id", "created_at").filter(
        Q(stripe_session_id__isnull=False) | Q(status__in=PAID), method=PaymentMethod.STRIPE)
    if since:
        payments = payments.filter(order__created_at__gte=since)
    columns = ("pk", "order_id", "order__order_number", "order__status", "status", "method", "order__total_charged",
               "order__currency", "amount", "amount_refunded", "dispute_status", "stripe_session_id",
               "stripe_payment_intent", "stripe_charge_id")
    batch = []
    for row in payments.values_list(*columns).iterator(chunk_size=CHUNK):
        batch.append(row)
        if len(batch) == CHUNK:
            yield from _with_refunds(batch)
            batch = []
    if batch:
        yield from _with_refunds(batch)


def _with_refunds(rows: list) -> list[OrderFacts]:
    refunds: dict = {}
    for payment_id, refund_id, amount in Refund.objects.filter(
            payment_id__in=[r[0] for r in rows], status=Refund.Status.SUCCEEDED, stripe_refund_id__isnull=False,
    ).values_list("payment_id", "stripe_refund_id", "amount"):
        refunds.setdefault(payment_id, []).append((refund_id, amount))
    return [OrderFacts(str(r[1]), *r[2:], refunds=tuple(refunds.get(r[0], ()))) for r in rows]


def check_all(c, *, since: datetime | None, say: Callable[[str], None], workers: int = 8) -> None:
    before = c.report.total
    checked = failed = 0
    chunk: list[OrderFacts] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        def flush() -> None:
            nonlocal checked, failed
            for facts, (found, why) in zip(chunk, pool.map(check_order, chunk), strict=True):
                for code, message in found:
                    c.add(code, "order", facts.number, message)
                if why is not None:
                    failed += 1
                    c.stripe_failed(facts.number, why)
                checked += 1
                if checked % PROGRESS_EVERY == 0:
                    say(f"    Stripe: {checked:,} orders compared")
            chunk.clear()

        for facts in _facts(since):
            chunk.append(facts)
            if len(chunk) == CHUNK:
                flush()
        flush()
    c.report.stripe_errors += failed
    c.report.checked["orders compared with Stripe"] = checked
    say(f"  orders vs Stripe: {c.report.total - before} discrepancies"
        + (f", {failed} look-ups failed" if failed else ""))
