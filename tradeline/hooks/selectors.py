"""Reads for the portal's webhook pages and the broker API."""

from uuid import UUID

from django.db.models import QuerySet

from tradeline.core.errors import NotFound
from tradeline.hooks.models import WebhookDelivery, WebhookEndpoint


def endpoints_for(*, broker) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(broker=broker).order_by("created_at")


def endpoint_get(*, broker, endpoint_id) -> WebhookEndpoint:
    """The broker's endpoint, or 404 (also for another broker's)."""
    endpoint = WebhookEndpoint.objects.filter(broker=broker, pk=endpoint_id).first() if _uuid(endpoint_id) else None
    if endpoint is None:
        raise NotFound("No such webhook endpoint.", code="WEBHOOK_ENDPOINT_NOT_FOUND")
    return endpoint


def deliveries_for(*, broker, endpoint_id=None, limit: int = 50) -> QuerySet[WebhookDelivery]:
    rows = WebhookDelivery.objects.filter(endpoint__broker=broker).select_related("event", "endpoint")
    if endpoint_id is not None:
        rows = rows.filter(endpoint_id=endpoint_id)
    return rows.order_by("-created_at")[:limit]


def delivery_get(*, broker, delivery_id) -> WebhookDelivery:
    delivery = (WebhookDelivery.objects.filter(endpoint__broker=broker, pk=delivery_id)
                .select_related("event", "endpoint").first() if _uuid(delivery_id) else None)
    if delivery is None:
        raise NotFound("No such webhook delivery.", code="WEBHOOK_DELIVERY_NOT_FOUND")
    return delivery


def _uuid(value) -> bool:
    try:
        UUID(str(value))
    except ValueError:
        return False
    return True
