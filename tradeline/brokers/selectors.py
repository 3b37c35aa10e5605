"""Reads of brokers and their keys, shaped for the API."""

from decimal import Decimal

from django.db.models import F, Q, QuerySet

from tradeline.brokers.models import Broker, BrokerApiKey
from tradeline.core.errors import NotFound
from tradeline.core.money import cents_to_usd


def broker_get(*, broker_id) -> Broker:
    try:
        return Broker.objects.select_related("approved_by").get(pk=broker_id)
    except (Broker.DoesNotExist, ValueError):
        raise NotFound("No such broker.", code="BROKER_NOT_FOUND") from None


def broker_scoped_get(queryset: QuerySet, *, pk, broker: Broker | None, not_found: NotFound):
    """One row of `queryset` by primary key, as `broker` may see it.

    `broker=None` means an admin (any row); a broker sees only its own rows, and another broker's
    row is `not_found` exactly as a missing one is, so ids of other brokers' rows reveal nothing.
    """
    if broker is not None:
        queryset = queryset.filter(broker=broker)
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise not_found
    return row


def broker_public(broker: Broker) -> dict:
    """What a broker sees about itself."""
    return {
        "id": broker.pk,
        "name": broker.name,
        "business_name": broker.business_name,
        "email": broker.email,
        "phone": broker.phone,
        "address": broker.address,
        "website": broker.website,
        "status": broker.status,
        "revenue_share_percent": Decimal(broker.revenue_share_percent).quantize(Decimal("0.01")),
        "markup_type": broker.markup_type,
        "markup_percent": Decimal(broker.markup_percent).quantize(Decimal("0.001")),
        "markup_fixed": broker.markup_fixed,
        "markup_fixed_usd": cents_to_usd(broker.markup_fixed),
        "allowed_origins": list(broker.allowed_origins or []),
        "created_at": broker.created_at,
        "approved_at": broker.approved_at,
    }


def broker_keys(*, broker: Broker) -> list[BrokerApiKey]:
    """Every key of the broker (prefixes only), live ones first, newest first."""
    return list(BrokerApiKey.objects.filter(broker=broker)
                .order_by(F("revoked_at").desc(nulls_first=True), "-created_at"))


def broker_key_get(*, broker: Broker, key_id) -> BrokerApiKey:
    try:
        return BrokerApiKey.objects.get(pk=key_id, broker=broker)
    except (BrokerApiKey.DoesNotExist, ValueError):
        raise NotFound("No such key.", code="KEY_NOT_FOUND") from None


def broker_admin_detail(broker: Broker) -> dict:
    approver = broker.approved_by
    return {
        **broker_public(broker),
        "notes": broker.notes,
        "approved_by": (approver.email or approver.get_username()) if approver else None,
        "has_portal_password": bool(broker.password),
        "keys": broker_keys(broker=broker),
    }


def broker_list(*, status: str | None = None, search: str | None = None, page: int = 1, limit: int = 20) -> dict:
    brokers = Broker.objects.all()
    if status:
        brokers = brokers.filter(status=status)
    if search and search.strip():
        term = search.strip()
        brokers = brokers.filter(Q(name__icontains=term) | Q(business_name__icontains=term) | Q(email__icontains=term))
    total = brokers.count()
    rows = brokers.order_by("name", "id")[(page - 1) * limit: page * limit]
    return {
        "brokers": [broker_public(broker) for broker in rows],
        "pagination": {"page": page, "limit": limit, "total": total, "pages": (total + limit - 1) // limit},
    }
