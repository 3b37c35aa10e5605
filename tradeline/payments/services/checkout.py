"""Checkout and the other payment attempts made before any money moves: the order (through
orders.services.order_create) and its Stripe Checkout Session, an admin's payment link, an admin's
manual (CASH / WIRE / CHECK) payment; the cancel of a pending checkout; the sweep of stale checkouts.

Transactions: `checkout_create` commits the order first, then calls Stripe with no transaction open
and no row locked, then stores the session as the order's STRIPE payment attempt in one short
transaction (only while the order is still PENDING and has no session). If Stripe fails, the order
is cancelled (orders.services.order_cancel) and the error is raised, so no PENDING order without a
payment page is ever left behind.
"""

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from tradeline.agreements.services import AgreementConsent, acceptance_record, agreement_require
from tradeline.analytics.services import stats_increment
from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_log
from tradeline.brokers.models import Broker
from tradeline.core.errors import ApplicationError, Conflict, NotFound, UpstreamError, ValidationFailed
from tradeline.orders.models import MANUAL_METHODS, Order, OrderStatus, PaymentMethod, PaymentStatus
from tradeline.orders.services import (
    CANCELLATION_REASON_MAX,
    checkout_return_urls,
    clean_return_url,
    order_cancel,
    order_cancel_never_opened,
    order_create,
    order_transition,
)
from tradeline.payments import stripe_gateway
from tradeline.payments.models import Payment, PaymentRole
from tradeline.payments.services.common import is_uuid, order_locked
from tradeline.payments.services.paid import REFERENCE_MAX, order_checkout_expired, order_payment_record

logger = logging.getLogger(__name__)


def _as_datetime(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromtimestamp(int(value), tz=UTC)


def _checkout_failed(*, order: Order, error: Exception) -> None:
    """Cancel the never-payable order after Stripe refused or failed (no-op if it moved on)."""
    code = getattr(error, "code", type(error).__name__)
    reason = f"checkout failed: {code}"[:CANCELLATION_REASON_MAX]
    order_cancel(order_id=order.pk, reason=reason, action="order.checkout_failed", strict=False,
                 metadata={"code": code})
    logger.warning("checkout for order %s failed (%s); order cancelled", order.order_number, code)


def checkout_create(
    *,
    broker: Broker | None,
    customer_email: str,
    customer_name: str = "",
    items,
    success_url: str | None = None,
    cancel_url: str | None = None,
    actor_user=None,
    agreement: AgreementConsent | None,
    on_stripe_call: Callable[[], None] | None = None,
):
    """Create the order (committed) and its Stripe Checkout Session; returns (order, session).

    The customer must have accepted the current Tradeline User Agreement (`agreement`, 422
    AGREEMENT_REQUIRED / AGREEMENT_OUTDATED otherwise); the acceptance evidence is written in the
    order's own transaction, and the session asks Stripe for its terms-of-service consent too.
    `on_stripe_call` is called just before Stripe is asked (the API's rate limit counts only the
    requests that got this far: a Checkout Session is what costs).

    Stripe is called outside any transaction. On a Stripe failure the order is cancelled and the
    gateway's error (502 STRIPE_UNAVAILABLE, 4xx STRIPE_REJECTED) is raised. Counts one checkout
    start for the broker's UTC day once the session exists.
    """
    # Validate everything the request carries before anything is written.
    clean_return_url(success_url, field="success_url")
    clean_return_url(cancel_url, field="cancel_url")
    # The expected expiry is recorded with the order, so even a crash before Stripe answers leaves
    # an order that the stale-checkout sweep will cancel.
    expected_expiry = timezone.now() + timedelta(minutes=settings.STRIPE_CHECKOUT_EXPIRY_MINUTES)
    order = order_create_accepted(broker=broker, customer_email=customer_email, customer_name=customer_name,
                                  items=items, actor_user=actor_user, checkout_expires_at=expected_expiry,
                                  agreement=agreement)
    success, cancel = checkout_return_urls(broker=broker, order_number=order.order_number,
                                           success_url=success_url, cancel_url=cancel_url)
    if on_stripe_call is not None:
        on_stripe_call()
    version = order.agreement_acceptance.version
    try:
        session = stripe_gateway.create_checkout_session(
            order=order, success_url=success, cancel_url=cancel,
            terms_url=settings.PUBLIC_BASE_URL + reverse("agreements:version", args=[version]))
    except ApplicationError as exc:
        _checkout_failed(order=order, error=exc)
        raise
    except Exception as exc:  # an unexpected gateway failure must not leave a PENDING order either
        _checkout_failed(order=order, error=exc)
        logger.exception("unexpected error creating the checkout session for %s", order.order_number)
        raise UpstreamError("The payment service failed; nothing was charged. Please try again.",
                            code="STRIPE_UNAVAILABLE") from exc

    expires_at = _as_datetime(session.expires_at) or expected_expiry
    payment = checkout_session_store(order_id=order.pk, session_id=session.id, expires_at=expires_at,
                                     actor_user=actor_user)
    if payment is None:
        # Cancelled (by an admin) while Stripe was answering: close the page we just opened.
        _expire_session_quietly(session.id)
        raise Conflict("The order was cancelled while its checkout was being created.", code="ORDER_NOT_PENDING")
    if broker is not None:
        stats_increment(broker_id=broker.pk, day=timezone.now().astimezone(UTC).date(), checkout_starts=1)
    order.checkout_expires_at = expires_at
    return order, session


def order_create_accepted(*, agreement: AgreementConsent | None, **order_fields) -> Order:
    """orders.services.order_create plus the agreement evidence, in one transaction. The cart is
    checked first (its errors are the more useful ones), then the consent: a 422 there rolls the
    new order back, so nothing is written without the customer's acceptance."""
    with transaction.atomic():
        order = order_create(**order_fields)
        acceptance_record(order=order, agreement=agreement_require(agreement), consent=agreement)
    return order


def checkout_session_store(*, order_id, session_id: str, expires_at, actor_user=None) -> Payment | None:
    """Store a new order's Checkout Session as its STRIPE payment attempt, only while the order is
    still PENDING with no session (None otherwise: it was cancelled while Stripe answered). After
    the commit, any older payment link of the order is deactivated: the newer session replaces it."""
    with transaction.atomic():
        order = order_locked(order_id)
        if order.status != OrderStatus.PENDING or order.payments.filter(stripe_session_id__isnull=False).exists():
            return None
        payment = Payment.objects.create(order=order, method=PaymentMethod.STRIPE, amount=order.total_charged,
                                         currency=order.currency, stripe_session_id=session_id)
        order_transition(order=order, checkout_expires_at=expires_at)
        activity_log(action="order.checkout_created", entity=order, broker_id=order.broker_id, actor_user=actor_user,
                     actor_type=ActorType.BROKER if order.broker_id is not None and actor_user is None
                     else ActorType.SYSTEM,
                     metadata={"order_number": order.order_number, "session_id": session_id})
    _close_other_attempts(order_id=order_id, keep=payment, sessions=False)
    return payment


# --- cancel --------------------------------------------------------------------------------------

def _expire_session_quietly(session_id: str) -> bool:
    try:
        stripe_gateway.expire_checkout_session(session_id)
    except Exception as exc:  # best effort: the session expires by itself anyway
        logger.warning("could not expire checkout session %s: %s", session_id, getattr(exc, "code", exc))
        return False
    return True


def checkout_cancel(*, order_id, actor_user=None, reason: str = "") -> Order:
    """Cancel a PENDING order (orders.services.order_cancel: Conflict otherwise), then expire its
    Stripe session (best effort, after the commit)."""
    order = order_cancel(order_id=order_id, actor_user=actor_user, reason=reason)
    for session_id in order.payments.filter(stripe_session_id__isnull=False).values_list("stripe_session_id",
                                                                                          flat=True):
        _expire_session_quietly(session_id)
    return order


# --- stale checkouts -----------------------------------------------------------------------------

def order_expire_stale_checkouts(
    *, now: datetime | None = None, grace_seconds: int = 600, limit: int = 500, dry_run: bool = False,
    progress=None,
) -> dict[str, int]:
    """Backstop for lost `checkout.session.expired` webhooks and for checkouts that never reached
    Stripe (process died between the order and the session): cancel PENDING orders whose checkout
    expired more than `grace_seconds` ago.

    Each order's session is asked for at Stripe first (no transaction open): only a session Stripe
    reports `expired` cancels its order (through payments' own expiry service); a `complete` or
    still `open` session is left alone for the payment events. An order with no session at all is
    cancelled directly. Orders with a payment link, or created without a checkout (manual payment),
    are never touched. Returns counts (with dry_run, `cancelled` counts what would be cancelled);
    safe to run repeatedly and concurrently.
    """
    say = progress or (lambda message: None)
    cutoff = (now or timezone.now()) - timedelta(seconds=grace_seconds)
    candidates = list(
        Order.objects.filter(status=OrderStatus.PENDING, checkout_expires_at__lt=cutoff)
        .exclude(payments__stripe_payment_link_id__isnull=False)
        .annotate(session_id=Max("payments__stripe_session_id"))
        .order_by("checkout_expires_at").values_list("pk", "order_number", "session_id")[:limit]
    )
    counts = {"checked": len(candidates), "cancelled": 0, "left_open": 0, "left_complete": 0, "errors": 0}
    say(f"{len(candidates)} pending order(s) with a checkout expired before {cutoff:%Y-%m-%d %H:%M} UTC")
    for index, (order_id, number, session_id) in enumerate(candidates, 1):
        if session_id:
            try:
                status = str(stripe_gateway.retrieve_checkout_session(session_id).get("status") or "")
            except ApplicationError as exc:
                counts["errors"] += 1
                logger.warning("stale checkout %s: session lookup failed (%s)", number, exc.code)
                continue
            if status != "expired":
                counts["left_complete" if status == "complete" else "left_open"] += 1
                continue
            cancelled = dry_run or order_checkout_expired(order_id=order_id, session_id=session_id)
        else:
            cancelled = dry_run or order_cancel_never_opened(order_id=order_id)
        counts["cancelled"] += int(bool(cancelled))
        if index % 100 == 0:
            say(f"  {index}/{len(candidates)} checked, {counts['cancelled']} cancelled")
    say(", ".join(f"{name} {value}" for name, value in counts.items()))
    return counts


# --- manual payments and payment links ------------------------------------------------------

def manual_payment_record(*, order_id, method: str, reference: str, admin) -> Order:
    """An admin records a CASH / WIRE / CHECK payment of the full total for a PENDING order: the
    same paid transition as Stripe (commission, analytics, fulfillment), admin and reference kept on
    the Payment. After the commit the order's open Checkout Sessions are expired and its payment
    links deactivated (best effort), so the customer cannot pay a second time online."""
    method = (method or "").upper()
    if method not in MANUAL_METHODS:
        raise ValidationFailed("payment_method must be CASH, WIRE or CHECK.", code="INVALID_PAYMENT_METHOD",
                               details={"field": "payment_method"})
    reference = " ".join(str(reference or "").split())
    if not reference:
        raise ValidationFailed("A reference (receipt, wire or check number) is required.",
                               code="REFERENCE_REQUIRED", details={"field": "reference"})
    if len(reference) > REFERENCE_MAX:
        raise ValidationFailed(f"The reference is longer than {REFERENCE_MAX} characters.",
                               code="REFERENCE_TOO_LONG", details={"field": "reference"})
    order = Order.objects.filter(pk=order_id).first() if is_uuid(order_id) else None
    if order is None:
        raise NotFound("Order not found.", code="ORDER_NOT_FOUND")
    order_payment_record(order_id=order.pk, amount=order.total_charged, currency=order.currency, method=method,
                         reference=reference, actor_user=admin)
    order.refresh_from_db()
    _close_other_attempts(order_id=order.pk)
    return order


def _open_attempts(order_id, *, links: bool):
    """The order's open (PENDING) Stripe attempts: its payment links, or its own Checkout Sessions."""
    attempts = Payment.objects.filter(order_id=order_id, method=PaymentMethod.STRIPE, status=PaymentStatus.PENDING,
                                      role=PaymentRole.ATTEMPT)
    if links:
        return attempts.filter(stripe_payment_link_id__isnull=False)
    return attempts.filter(stripe_session_id__isnull=False, stripe_payment_link_id__isnull=True)


def _close_other_attempts(*, order_id, keep=None, sessions: bool = True, links: bool = True) -> None:
    """After the commit, with no row locked: expire the order's open Checkout Sessions and
    deactivate its payment links (except `keep`), so the customer cannot pay twice. Best effort:
    what still gets paid is an EXCESS payment, refunded automatically (services.excess)."""
    if sessions:
        for session_id in _open_attempts(order_id, links=False).exclude(pk=getattr(keep, "pk", None)).values_list(
                "stripe_session_id", flat=True):
            _expire_session_quietly(session_id)
    if links:
        for link_id in _open_attempts(order_id, links=True).exclude(pk=getattr(keep, "pk", None)).values_list(
                "stripe_payment_link_id", flat=True):
            try:
                stripe_gateway.deactivate_payment_link(link_id)
            except Exception as exc:  # a link paid after this is an EXCESS payment, refunded automatically
                logger.warning("could not deactivate payment link %s of order %s: %s", link_id, order_id,
                               getattr(exc, "code", exc))


def payment_link_create(*, order_id, admin) -> Payment:
    """A Stripe payment link for a PENDING order (Conflict for any other status), stored as a STRIPE
    payment attempt. Asking again returns the stored one. Stripe is called outside the transaction;
    the link is stored only if the order is still PENDING when Stripe answers."""
    order = Order.objects.filter(pk=order_id).first() if is_uuid(order_id) else None
    if order is None:
        raise NotFound("Order not found.", code="ORDER_NOT_FOUND")
    _require_pending_for_link(order)
    existing = order.payments.filter(stripe_payment_link_id__isnull=False).first()
    if existing is not None:
        return existing
    link = stripe_gateway.create_payment_link(order=order)
    with transaction.atomic():
        order = order_locked(order.pk)
        existing = order.payments.filter(stripe_payment_link_id__isnull=False).first()
        if existing is not None:
            return existing
        if order.status != OrderStatus.PENDING:
            logger.warning("order %s left PENDING while its payment link %s was made; link not stored",
                           order.pk, link.id)
            _require_pending_for_link(order)
        payment = Payment.objects.create(order=order, method=PaymentMethod.STRIPE, amount=order.total_charged,
                                         currency=order.currency, stripe_payment_link_id=link.id,
                                         stripe_payment_link_url=link.url)
        activity_log(action="order.payment_link_created", entity=order, actor_user=admin, broker_id=order.broker_id,
                     metadata={"order_number": order.order_number, "payment_link": link.id})
    _close_other_attempts(order_id=order.pk, keep=payment, links=False)  # the customer pays by the link now
    return payment


def _require_pending_for_link(order: Order) -> None:
    if order.status != OrderStatus.PENDING:
        raise Conflict(f"A payment link can only be made for a PENDING order; this one is {order.status}.",
                       code="ORDER_NOT_PENDING", details={"status": order.status})
