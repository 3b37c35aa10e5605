"""Order writes: create (priced and frozen), cancel. The checkout (order + Stripe session) is in
tradeline.payments.services.checkout.

Money rules: docs/domain.md, "Money rules". Every price is computed by the pricing engine
(tradeline.catalog.pricing) from the current catalog and frozen on the order and its items; nothing
here rounds or adds money itself except summing the engine's line totals (done by OrderQuote).

Transactions: `order_create` is one transaction; so is `order_cancel`.
"""

import logging
import secrets
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_log
from tradeline.brokers.auth import require_active
from tradeline.brokers.models import Broker
from tradeline.catalog.pricing import OrderQuote, PricingPolicy, merge_cart, quote_order
from tradeline.catalog.selectors import checkout_catalog
from tradeline.catalog.services import pricing_policy_for
from tradeline.core.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from tradeline.core.money import cents_to_usd
from tradeline.hooks import events as hook_events
from tradeline.orders.models import FulfillmentStatus, Order, OrderItem, OrderStatus, PaymentStatus

logger = logging.getLogger(__name__)

# Order numbers: TLM-YYMM-XXXXXX. 31 symbols, no 0/O or 1/I/L: easy to read out on the phone.
# 31**6 ≈ 887 million numbers a month; collisions are caught by the unique index and redrawn.
ORDER_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ORDER_NUMBER_RANDOM_LENGTH = 6
ORDER_NUMBER_ATTEMPTS = 8

MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 200
MAX_URL_LENGTH = 2000
CANCELLATION_REASON_MAX = 500

# Return pages on our own site, used when neither the request nor the broker gives one.
DEFAULT_SUCCESS_PATH = "/checkout/success"
DEFAULT_CANCEL_PATH = "/checkout/cancel"


# --- the life cycle ------------------------------------------------------------------------------

S = OrderStatus
# The one table of allowed status moves (docs/domain.md "Order"). ON_HOLD: money arrived that does
# not fit (mismatch, after the order ended unpaid, a refund report beyond the payment) or an admin
# flagged the order; it leaves only by a full refund. REFUNDED is final.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.PROCESSING, S.ON_HOLD, S.CANCELLED, S.FAILED}),
    S.PROCESSING: frozenset({S.COMPLETED, S.ON_HOLD, S.REFUNDED}),
    S.COMPLETED: frozenset({S.REFUNDED}),
    S.ON_HOLD: frozenset({S.REFUNDED}),
    S.CANCELLED: frozenset({S.ON_HOLD}),
    S.FAILED: frozenset({S.ON_HOLD}),
    S.REFUNDED: frozenset(),
}
# Timestamps a move sets, and the summary it implies (unless the caller gives that column): an
# unpaid end closes the payment summary; the paid move queues the fulfillment.
_STAMPED = {S.CANCELLED: "cancelled_at", S.COMPLETED: "completed_at", S.REFUNDED: "refunded_at"}
_IMPLIED = {
    S.CANCELLED: {"payment_status": PaymentStatus.CANCELLED},
    S.FAILED: {"payment_status": PaymentStatus.FAILED},
    S.PROCESSING: {"fulfillment_status": FulfillmentStatus.QUEUED},
}
# The denormalised columns other apps ask this module to save (docs/domain.md "Summaries"):
# payment summary (values from payments.services.common.payment_summary), fulfillment state (fulfillment.services),
# the review note, and the customer's name/phone as Stripe reports them.
SUMMARY_FIELDS = frozenset({
    "payment_status", "amount_paid", "paid_at", "amount_refunded", "dispute_status", "fulfillment_status",
    "review_reason", "customer_name", "customer_phone", "checkout_expires_at",
})


class OrderTransitionRefused(Conflict):
    pass


def order_transition_allowed(current: str, to: str) -> bool:
    return to in TRANSITIONS[current]


def order_transition(*, order: Order, to: str | None = None, reason: str = "", **summary) -> list[str]:
    """The one writer of `Order.status` and of the summary columns: move the (locked) order to `to`
    per TRANSITIONS and/or save `summary` (names from SUMMARY_FIELDS), in one UPDATE. Returns the
    columns saved ([] when nothing changed). A move the table forbids raises OrderTransitionRefused
    (409) and writes nothing. Call inside the caller's transaction, with the order locked
    (Order.objects.locked) or freshly read under a conditional claim."""
    unknown = set(summary) - SUMMARY_FIELDS
    if unknown:
        raise ValueError(f"not an order summary column: {sorted(unknown)}")
    fields = [name for name, value in summary.items() if getattr(order, name) != value]
    for name in fields:
        setattr(order, name, summary[name])
    previous_status = order.status
    if to is not None and to != order.status:
        if not order_transition_allowed(order.status, to):
            raise OrderTransitionRefused(f"An order cannot go from {order.status} to {to}.",
                                         code="ORDER_TRANSITION_REFUSED",
                                         details={"status": order.status, "to": to})
        order.status = to
        fields.append("status")
        if to in _STAMPED:
            setattr(order, _STAMPED[to], timezone.now())
            fields.append(_STAMPED[to])
        if to == S.CANCELLED:
            order.cancellation_reason = reason[:CANCELLATION_REASON_MAX]
            fields.append("cancellation_reason")
        for name, value in _IMPLIED.get(to, {}).items():
            if name not in summary and getattr(order, name) != value:
                setattr(order, name, value)
                fields.append(name)
    if fields:
        order.save(update_fields=[*fields, "updated_at"])
    if "status" in fields:
        hook_events.order_event(order, previous_status=previous_status)  # order.status_changed, after the commit
    return fields


# --- order numbers -------------------------------------------------------------------------------

def _random_suffix() -> str:
    return "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(ORDER_NUMBER_RANDOM_LENGTH))


def order_number_generate(*, now: datetime | None = None) -> str:
    """A fresh candidate like TLM-2611-7Q4K9X (year and month in UTC). Uniqueness is the DB's job."""
    now = (now or timezone.now()).astimezone(UTC)
    return f"TLM-{now:%y%m}-{_random_suffix()}"


# --- validation ----------------------------------------------------------------------------------

def _clean_email(value) -> str:
    email = str(value or "").strip()
    try:
        if not email or len(email) > MAX_EMAIL_LENGTH:
            raise DjangoValidationError("invalid")
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(
            "customer_email must be a valid email address.", code="INVALID_EMAIL",
            details=[{"field": "customer_email", "message": "invalid email address"}],
        ) from None
    return email


def _clean_name(value) -> str:
    name = " ".join(str(value or "").split())
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationFailed(
            f"customer_name is longer than {MAX_NAME_LENGTH} characters.", code="INVALID_NAME",
            details=[{"field": "customer_name", "message": f"at most {MAX_NAME_LENGTH} characters"}],
        )
    return name


_url_validator = URLValidator(schemes=["http", "https"])


def clean_return_url(value, *, field: str) -> str | None:
    """None/blank -> None; otherwise an absolute http(s) URL, or a 422 naming the field."""
    if value is None:
        return None
    url = str(value).strip()
    if not url:
        return None
    try:
        if len(url) > MAX_URL_LENGTH:
            raise DjangoValidationError("too long")
        # Stripe's own placeholder is allowed in return URLs; validate the URL without it.
        _url_validator(url.replace("{CHECKOUT_SESSION_ID}", "session"))
    except DjangoValidationError:
        raise ValidationFailed(
            f"{field} must be an absolute http or https URL.", code="INVALID_URL",
            details=[{"field": field, "message": "absolute http(s) URL expected"}],
        ) from None
    return url


def _broker_website(broker: Broker | None) -> str | None:
    """The broker's website as a base URL, or None when it is missing or not a usable http(s) URL."""
    if broker is None or not broker.website:
        return None
    website = broker.website.strip().rstrip("/")
    try:
        _url_validator(website)
    except DjangoValidationError:
        return None
    if urlsplit(website).query or urlsplit(website).fragment:
        return None
    return website


def checkout_return_urls(
    *, broker: Broker | None, order_number: str, success_url: str | None = None, cancel_url: str | None = None
) -> tuple[str, str]:
    """Where Stripe sends the customer back. Each URL is chosen on its own:
    the request's URL, else the broker's website (`/success?order=N`, `/cart`), else our own pages.
    (The blueprint's `success_url || website ? website + "/success" : undefined` dropped the
    request's URL whenever one was given; here a given URL always wins.)
    """
    success_url = clean_return_url(success_url, field="success_url")
    cancel_url = clean_return_url(cancel_url, field="cancel_url")
    website = _broker_website(broker)
    number = quote(order_number, safe="")
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    if success_url is None:
        success_url = f"{website}/success?order={number}" if website else f"{base}{DEFAULT_SUCCESS_PATH}?order={number}"
    if cancel_url is None:
        cancel_url = f"{website}/cart" if website else f"{base}{DEFAULT_CANCEL_PATH}?order={number}"
    return success_url, cancel_url


def _cart(items) -> list[tuple[str, int]]:
    """Accept [(card_id, quantity)] or [{"card_id", "quantity"}]; shape errors are 422s."""
    if items is None or isinstance(items, (str, bytes, dict)):
        raise ValidationFailed("items must be a list of {card_id, quantity}.", code="CART_INVALID")
    cart = []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            card_id, quantity = item.get("card_id"), item.get("quantity")
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            card_id, quantity = item
        else:
            raise ValidationFailed("items must be a list of {card_id, quantity}.", code="CART_INVALID",
                                   details=[{"field": f"items.{index}", "message": "card_id and quantity expected"}])
        if not isinstance(card_id, str) or len(card_id) > 64:
            raise ValidationFailed("Every item needs a card_id (text, at most 64 characters).",
                                   code="CART_ITEM_INVALID",
                                   details=[{"field": f"items.{index}.card_id", "message": "invalid"}])
        cart.append((card_id, quantity))
    merge_cart(cart)  # shape rules (1..20 lines, quantity 1..10) before the catalog is touched
    return cart


# --- create --------------------------------------------------------------------------------------

def _quote(*, broker: Broker | None, cart: list[tuple[str, int]]):
    policy = pricing_policy_for(broker)
    catalog = checkout_catalog()
    return policy, quote_order(cart, catalog, policy)


def _insert_order(*, fields: dict) -> Order:
    """Insert with a fresh random number; on a number collision retry inside a savepoint."""
    for _ in range(ORDER_NUMBER_ATTEMPTS):
        number = order_number_generate()
        try:
            with transaction.atomic():
                return Order.objects.create(order_number=number, **fields)
        except IntegrityError:
            if not Order.objects.filter(order_number=number).exists():
                raise  # some other constraint: not ours to retry
            logger.warning("order number collision on %s; drawing another", number)
    raise ApplicationError("Could not allocate an order number; try again.", code="ORDER_NUMBER_EXHAUSTED",
                           status=503)


def order_quote_fields(*, quote: OrderQuote, policy: PricingPolicy, broker: Broker | None) -> dict:
    """The frozen money of an order: its totals (sums of the quote's line totals) and pricing inputs."""
    return dict(
        subtotal_base=quote.subtotal_base,
        supplier_cost=quote.supplier_cost,
        platform_gross=quote.platform_gross,
        platform_net_revenue=quote.platform_net_revenue,
        broker_revenue_share=quote.broker_revenue_share,
        broker_markup=quote.broker_markup,
        total_charged=quote.total_charged,
        platform_commission_percent=policy.platform_commission_percent,
        revenue_share_percent=policy.revenue_share_percent if broker is not None else 0,
    )


def order_items_freeze(*, order: Order, quote: OrderQuote) -> None:
    """One OrderItem per quote line, unit prices and line totals copied as they are now."""
    OrderItem.objects.bulk_create([
        OrderItem(
            order=order,
            card_id=line.entry.card_id,
            bank_name=line.entry.bank_name,
            credit_limit=line.entry.credit_limit,
            date_opened=line.entry.date_opened,
            reporting_period=line.entry.reporting_period,
            purchase_deadline=line.entry.purchase_deadline,
            quantity=line.quantity,
            base_price=line.unit.base_price,
            platform_gross=line.unit.platform_gross,
            revenue_share=line.unit.revenue_share,
            markup=line.unit.markup,
            customer_price=line.unit.customer_price,
            total_base=line.total_base,
            total_platform_gross=line.total_platform_gross,
            total_revenue_share=line.total_revenue_share,
            total_markup=line.total_markup,
            total_customer_price=line.total_customer_price,
        )
        for line in quote.lines
    ])


def order_create(
    *, broker: Broker | None, customer_email: str, customer_name: str = "", items, actor_user=None,
    checkout_expires_at: datetime | None = None,
) -> Order:
    """Price the cart against the current catalog and create a PENDING order with every price frozen.

    `broker=None` is a direct sale (no share, no markup). Raises ValidationFailed (422) for cart and
    customer errors, PermissionDenied (403, BROKER_*) for a broker that is not ACTIVE, and the
    catalog's 503 (CATALOG_STALE / CATALOG_UNAVAILABLE). No commission is created here: that
    happens when the order is paid.

    `checkout_expires_at` (set by checkout_create) marks an order that is meant to be paid through a
    Checkout Session by then; `order_expire_stale_checkouts` cancels it if that never happened.
    """
    if broker is not None:
        require_active(broker)
    email = _clean_email(customer_email)
    name = _clean_name(customer_name)
    cart = _cart(items)
    policy, quote = _quote(broker=broker, cart=cart)

    with transaction.atomic():
        order = _insert_order(fields=dict(
            broker=broker,
            customer_email=email,
            customer_name=name,
            status=OrderStatus.PENDING,
            payment_status=PaymentStatus.PENDING,
            currency=settings.STRIPE_CURRENCY,
            checkout_expires_at=checkout_expires_at,
            **order_quote_fields(quote=quote, policy=policy, broker=broker),
        ))
        order_items_freeze(order=order, quote=quote)
        activity_log(
            action="order.created",
            entity=order,
            actor_type=ActorType.ADMIN if actor_user is not None else (
                ActorType.BROKER if broker is not None else ActorType.SYSTEM),
            actor_user=actor_user,
            broker=broker,
            metadata={
                "order_number": order.order_number,
                "lines": len(quote.lines),
                "units": sum(line.quantity for line in quote.lines),
                "total_charged": order.total_charged,
                "total_charged_usd": cents_to_usd(order.total_charged),
            },
        )
    logger.info("order %s created (%s lines, %s)", order.order_number, len(quote.lines),
                cents_to_usd(order.total_charged))
    return order


# --- cancel --------------------------------------------------------------------------------------

def order_cancel(*, order_id, actor_user=None, reason: str = "", action: str = "order.cancelled",
                 actor_type: str | None = None, strict: bool = True, metadata: dict | None = None,
                 **only_if) -> Order | None:
    """Cancel a PENDING order: the one way an order is cancelled (an admin, a failed or never
    opened checkout, an expired Checkout Session). One transaction: lock, check, move to CANCELLED
    (payment summary CANCELLED), log `action`. `only_if`: further lookups the order must match.

    strict (the admin's call): an order that is not PENDING is a Conflict; its open Checkout
    Session is payments' concern (payments.services.checkout.checkout_cancel). Otherwise an order
    that moved on (or fails `only_if`) is left alone and None is returned."""
    reason = " ".join(str(reason or "").split())[:CANCELLATION_REASON_MAX] or "cancelled by admin"
    with transaction.atomic():
        try:
            order = Order.objects.filter(**only_if).locked(order_id)
        except (Order.DoesNotExist, ValueError, DjangoValidationError):
            if strict:
                raise NotFound("Order not found.", code="ORDER_NOT_FOUND") from None
            return None
        if order.status != OrderStatus.PENDING:
            if not strict:
                return None
            raise Conflict(f"Only a PENDING order can be cancelled; this one is {order.status}.",
                           code="ORDER_NOT_PENDING", details={"status": order.status})
        order_transition(order=order, to=OrderStatus.CANCELLED, reason=reason)
        activity_log(action=action, entity=order, actor_user=actor_user, broker_id=order.broker_id,
                     actor_type=actor_type or ActorType.SYSTEM,
                     metadata={"order_number": order.order_number, "reason": reason, **(metadata or {})})
    return order


def order_cancel_never_opened(*, order_id) -> bool:
    """Cancel a PENDING order whose checkout never reached Stripe (no payment attempt at all)."""
    cancelled = order_cancel(order_id=order_id, reason="checkout never opened", action="order.checkout_abandoned",
                             strict=False, payments__isnull=True)
    return cancelled is not None
