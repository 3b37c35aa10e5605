"""Test data builders. They write rows directly only for setup; behaviour is always exercised
through services. Money comes from the pricing engine, so every row obeys the DB constraints."""

import itertools
from decimal import Decimal

from django.contrib.auth import get_user_model

from tradeline.brokers.models import AdminProfile, AdminRole, Broker, BrokerStatus, MarkupType
from tradeline.catalog.pricing import CatalogEntry, PricingPolicy, quote_order
from tradeline.fulfillment.models import SupplierOrder
from tradeline.orders.models import Order
from tradeline.payments.models import Payment

_seq = itertools.count(1)


def make_broker(*, status: str = BrokerStatus.ACTIVE, share: str = "10", markup_type: str = MarkupType.PERCENTAGE,
                markup_percent: str = "20", markup_fixed: int = 0, **fields) -> Broker:
    n = next(_seq)
    fields.setdefault("name", f"Broker {n}")
    fields.setdefault("email", f"broker{n}@example.com")
    return Broker.objects.create(
        status=status,
        revenue_share_percent=Decimal(share),
        markup_type=markup_type,
        markup_percent=Decimal(markup_percent),
        markup_fixed=markup_fixed,
        **fields,
    )


def make_admin(*, role: str = AdminRole.ADMIN, email: str | None = None, password: str = "correct-horse-battery"):
    n = next(_seq)
    email = email or f"admin{n}@example.com"
    user = get_user_model().objects.create_user(username=email, email=email, password=password, is_staff=True)
    AdminProfile.objects.create(user=user, role=role)
    return user


def policy_for(broker: Broker | None) -> PricingPolicy:
    from tradeline.catalog.services import pricing_policy_for

    return pricing_policy_for(broker)


def make_order(*, broker: Broker | None = None, prices=(100_000,), quantity: int = 1, **fields) -> Order:
    """A PENDING order priced by the pricing engine (one line per price), frozen like order_create does."""
    from tradeline.orders.services import order_items_freeze, order_quote_fields

    n = next(_seq)
    catalog = {
        f"card-{n}-{i}": CatalogEntry(card_id=f"card-{n}-{i}", bank_name=f"Bank {i}", price=p, stock=99,
                                      credit_limit=500_000, date_opened="2015-03")
        for i, p in enumerate(prices)
    }
    policy = policy_for(broker)
    quote = quote_order([(card_id, quantity) for card_id in catalog], catalog, policy)
    fields.setdefault("customer_email", f"customer{n}@example.com")
    order = Order.objects.create(
        order_number=fields.pop("order_number", f"TLM-TEST-{n:06d}"),
        broker=broker,
        **order_quote_fields(quote=quote, policy=policy, broker=broker),
        **fields,
    )
    order_items_freeze(order=order, quote=quote)
    return order


# --- the order's payment and supplier records (once columns of the order) ---------------------------

def add_checkout_session(order: Order, session_id: str | None = None) -> Payment:
    """Setup: the order's Checkout Session as its open STRIPE payment attempt (what checkout stores)."""
    return Payment.objects.create(order=order, method="STRIPE", amount=order.total_charged, currency=order.currency,
                                  stripe_session_id=session_id or f"cs_test_{order.pk.hex[:12]}")


def session_of(order: Order) -> str | None:
    """The order's own Checkout Session id (its first payment with one)."""
    return (Payment.objects.filter(order_id=order.pk, stripe_session_id__isnull=False).order_by("created_at")
            .values_list("stripe_session_id", flat=True).first())


def payment_of(order: Order) -> Payment | None:
    """The order's paying payment (else its latest attempt), read fresh."""
    paying = Payment.objects.filter(order_id=order.pk, role="PAYING").first()
    return paying or Payment.objects.filter(order_id=order.pk).order_by("-created_at").first()


def supplier_of(order: Order) -> SupplierOrder | None:
    """The order's SupplierOrder, read fresh (None before it was paid)."""
    return SupplierOrder.objects.filter(order_id=order.pk).first()
