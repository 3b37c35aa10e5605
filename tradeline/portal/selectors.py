"""Reads for the broker portal. A broker only ever sees its own rows."""

import dataclasses
from decimal import Decimal

from django.db.models import QuerySet

from tradeline.brokers.models import Broker, BrokerApiKey, MarkupType
from tradeline.catalog.models import Tradeline
from tradeline.catalog.pricing import price_unit
from tradeline.catalog.services import pricing_policy_for
from tradeline.core.errors import NotFound, ValidationFailed
from tradeline.payouts.models import Payout

PREVIEW_ROWS = 6


def markup_preview(*, broker: Broker, markup_type: str, markup_percent: Decimal | None = None,
                   markup_fixed: int = 0, limit: int = PREVIEW_ROWS) -> list[dict]:
    """What customers would pay, and what the broker would earn per unit, under a proposed markup.

    Priced by the pricing engine with the broker's current share; nothing is saved.
    """
    if markup_type not in MarkupType.values:
        raise ValidationFailed("Unknown markup type.", code="MARKUP_TYPE_INVALID")
    policy = pricing_policy_for(broker)
    try:
        policy = dataclasses.replace(
            policy,
            markup_type=markup_type,
            markup_percent=markup_percent if markup_type == MarkupType.PERCENTAGE else Decimal(0),
            markup_fixed=markup_fixed if markup_type == MarkupType.FIXED else 0,
        )
    except ValueError as exc:
        raise ValidationFailed(f"Invalid markup: {exc}.", code="MARKUP_INVALID") from None
    rows = Tradeline.objects.filter(is_available=True).order_by("bank_name", "card_id").values(
        "card_id", "bank_name", "credit_limit", "price")[:limit]
    preview = []
    for row in rows:
        unit = price_unit(row["price"], policy)
        preview.append({
            "card_id": row["card_id"], "bank_name": row["bank_name"], "credit_limit": row["credit_limit"],
            "base_price": unit.base_price, "customer_price": unit.customer_price,
            "revenue_share": unit.revenue_share, "markup": unit.markup, "earnings": unit.broker_earnings,
        })
    return preview


def broker_payouts(*, broker: Broker) -> QuerySet[Payout]:
    return Payout.objects.filter(broker=broker).order_by("-period_start", "-created_at")


def broker_payout_get(*, broker: Broker, payout_id) -> Payout:
    """One of the broker's payouts; NotFound for a malformed id or another broker's payout."""
    import uuid

    try:
        pk = uuid.UUID(str(payout_id))
    except ValueError:
        raise NotFound("Payout not found.", code="PAYOUT_NOT_FOUND") from None
    payout = Payout.objects.filter(pk=pk, broker=broker).first()
    if payout is None:
        raise NotFound("Payout not found.", code="PAYOUT_NOT_FOUND")
    return payout


def broker_live_keys(*, broker: Broker) -> list[BrokerApiKey]:
    return list(BrokerApiKey.objects.filter(broker=broker, revoked_at__isnull=True).order_by("kind"))
