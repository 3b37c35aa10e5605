"""Test data builders. They write rows directly only for setup; behaviour is always exercised
through services. Money comes from the pricing engine, so every row obeys the DB constraints."""

import itertools
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model

from tradeline.brokers.models import AdminProfile, AdminRole, Broker, BrokerStatus, MarkupType
from tradeline.catalog.pricing import CatalogEntry, PricingPolicy, direct_policy, quote_order
from tradeline.orders.models import Order, OrderItem

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
    commission = settings.PLATFORM_COMMISSION_PERCENT
    if broker is None:
        return direct_policy(commission)
    return PricingPolicy(
        platform_commission_percent=commission,
        revenue_share_percent=broker.revenue_share_percent,
        markup_type=broker.markup_type,
        markup_percent=broker.markup_percent,
        markup_fixed=broker.markup_fixed,
    )


def make_order(*, broker: Broker | None = None, prices=(100_000,), quantity: int = 1, **fields) -> Order:
    """A PENDING order priced by the pricing engine (one line per price)."""
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
        subtotal_base=quote.subtotal_base,
        supplier_cost=quote.supplier_cost,
        platform_gross=quote.platform_gross,
        platform_net_revenue=quote.platform_net_revenue,
        broker_revenue_share=quote.broker_revenue_share,
        broker_markup=quote.broker_markup,
        total_charged=quote.total_charged,
        platform_commission_percent=policy.platform_commission_percent,
        revenue_share_percent=policy.revenue_share_percent,
        **fields,
    )
    for line in quote.lines:
        OrderItem.objects.create(
            order=order, card_id=line.entry.card_id, bank_name=line.entry.bank_name,
            credit_limit=line.entry.credit_limit, date_opened=line.entry.date_opened, quantity=line.quantity,
            base_price=line.unit.base_price, platform_gross=line.unit.platform_gross,
            revenue_share=line.unit.revenue_share, markup=line.unit.markup, customer_price=line.unit.customer_price,
            total_base=line.total_base, total_platform_gross=line.total_platform_gross,
            total_revenue_share=line.total_revenue_share, total_markup=line.total_markup,
            total_customer_price=line.total_customer_price,
        )
    return order
