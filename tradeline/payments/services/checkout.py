"""Payment attempts made before any money moves: the Checkout Session of a new order, an admin's
payment link, and an admin's manual (CASH / WIRE / CHECK) payment. Stripe is called with no
transaction open and no row locked; its answer is stored in one short transaction after."""

import logging

from django.db import transaction

from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_log
from tradeline.core.errors import Conflict, NotFound, ValidationFailed
from tradeline.orders.models import MANUAL_METHODS, Order, OrderStatus, PaymentMethod
from tradeline.orders.services import order_transition
from tradeline.payments import stripe_gateway
from tradeline.payments.models import Payment
from tradeline.payments.services.paid import REFERENCE_MAX, order_payment_record
from tradeline.payments.services.records import is_uuid, order_locked

logger = logging.getLogger(__name__)


def checkout_session_store(*, order_id, session_id: str, expires_at, actor_user=None) -> Payment | None:
    """Store a new order's Checkout Session as its STRIPE payment attempt, only while the order is
    still PENDING with no session (None otherwise: it was cancelled while Stripe answered)."""
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
    return payment


def manual_payment_record(*, order_id, method: str, reference: str, admin) -> Order:
    """An admin records a CASH / WIRE / CHECK payment of the full total for a PENDING order: the
    same paid transition as Stripe (commission, analytics, fulfillment), admin and reference kept on
    the Payment. After the commit the order's open Checkout Sessions are expired (best effort), so
    the customer cannot pay a second time online."""
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
    for session_id in order.payments.filter(stripe_session_id__isnull=False).values_list("stripe_session_id",
                                                                                          flat=True):
        try:
            stripe_gateway.expire_checkout_session(session_id)
        except Exception as exc:  # the session expires by itself; a later online payment is EXCESS
            logger.warning("could not expire checkout session of order %s: %s", order.pk, getattr(exc, "code", exc))
    return order


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
    return payment


def _require_pending_for_link(order: Order) -> None:
    if order.status != OrderStatus.PENDING:
        raise Conflict(f"A payment link can only be made for a PENDING order; this one is {order.status}.",
                       code="ORDER_NOT_PENDING", details={"status": order.status})
