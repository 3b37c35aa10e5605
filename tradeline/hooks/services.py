"""Webhooks to brokers: emitting events and managing endpoints.

Business services call `webhook_event_emit(...)` once, inside their transaction; the event is
recorded and its deliveries enqueued only after that transaction commits (nothing is sent for a
change that rolled back), and only when the broker has an enabled endpoint that wants the type.
"""

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_log
from tradeline.core.errors import Conflict, ValidationFailed
from tradeline.hooks import selectors
from tradeline.hooks.models import (
    SUBSCRIBABLE,
    DeliveryStatus,
    EndpointStatus,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from tradeline.hooks.safety import clean_endpoint_url
from tradeline.hooks.tasks import deliver_webhook

logger = logging.getLogger(__name__)
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# ---------------------------------------------------------------- events

def webhook_event_emit(*, broker_id, type: str, data: dict | Callable[[], dict]) -> None:
    """Send `type` with `data` to the broker's endpoints once the current transaction commits.

    `data` may be a function: it is called after the commit and only if an endpoint wants the
    event, so a broker without webhooks costs the business transaction nothing (the paid path's
    statement count is pinned)."""
    if broker_id is None:
        return  # a direct sale: nobody to tell
    transaction.on_commit(partial(_emit_now, broker_id=broker_id, type=type, data=data), robust=True)


def _emit_now(*, broker_id, type: str, data: dict | Callable[[], dict]) -> WebhookEvent | None:
    endpoints = [endpoint for endpoint in WebhookEndpoint.objects.filter(broker_id=broker_id,
                                                                         status=EndpointStatus.ENABLED)
                 if type in endpoint.events]
    if not endpoints:
        return None
    if callable(data):
        data = data()
    return _record(broker_id=broker_id, type=type, data=data, endpoints=endpoints)


@transaction.atomic
def _record(*, broker_id, type: str, data: dict, endpoints: list[WebhookEndpoint]) -> WebhookEvent:
    event = WebhookEvent.objects.create(broker_id=broker_id, type=type, data=data)
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(event=event, endpoint=endpoint) for endpoint in endpoints])
    for delivery in deliveries:  # the database task backend commits these with the rows
        deliver_webhook.enqueue(delivery_id=str(delivery.pk))
    return event


# ---------------------------------------------------------------- endpoints

def _clean_events(value) -> list[str]:
    if not isinstance(value, list | tuple) or not value:
        raise ValidationFailed("Choose at least one event.", code="VALIDATION_ERROR",
                               details=[{"field": "events", "message": "at least one event", "type": "missing"}])
    unknown = [item for item in value if item not in SUBSCRIBABLE]
    if unknown:
        raise ValidationFailed("Unknown event type.", code="VALIDATION_ERROR",
                               details=[{"field": "events", "message": f"unknown: {str(unknown[0])[:60]}",
                                         "type": "invalid_choice"}])
    return [item for item in SUBSCRIBABLE if item in value]


def _clean_description(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 200:
        raise ValidationFailed("The description is at most 200 characters.", code="VALIDATION_ERROR",
                               details=[{"field": "description", "message": "too long", "type": "too_long"}])
    return value.strip()


@transaction.atomic
def webhook_endpoint_create(*, broker, url: str, events: list[str], description: str = "") -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (returned here only: shown to the broker once)."""
    url, events, description = clean_endpoint_url(url), _clean_events(events), _clean_description(description)
    # Lock the broker row: two concurrent creations cannot both pass the limit.
    type(broker).objects.select_for_update().filter(pk=broker.pk).first()
    if WebhookEndpoint.objects.filter(broker=broker).count() >= settings.BROKER_WEBHOOKS_MAX_ENDPOINTS:
        raise Conflict(f"A broker can have at most {settings.BROKER_WEBHOOKS_MAX_ENDPOINTS} webhook endpoints.",
                       code="WEBHOOK_ENDPOINT_LIMIT")
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.create(broker=broker, url=url, events=events, description=description,
                                              secret=secret)
    activity_log(action="webhook_endpoint.created", entity=endpoint, actor_type=ActorType.BROKER, broker=broker,
                 metadata={"url": url, "events": events})
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(*, broker, endpoint_id, url: str | None = None, events: list[str] | None = None,
                            description: str | None = None, enabled: bool | None = None) -> WebhookEndpoint:
    endpoint = selectors.endpoint_get(broker=broker, endpoint_id=endpoint_id)
    changes = {}
    if url is not None:
        changes["url"] = clean_endpoint_url(url)
    if events is not None:
        changes["events"] = _clean_events(events)
    if description is not None:
        changes["description"] = _clean_description(description)
    if enabled is not None:
        status = EndpointStatus.ENABLED if enabled else EndpointStatus.DISABLED
        if status != endpoint.status:
            changes.update(status=status, disabled_at=None if enabled else timezone.now(),
                           disabled_reason="" if enabled else "disabled by the broker")
            if enabled:
                changes["consecutive_failures"] = 0
    changed = {name: value for name, value in changes.items() if getattr(endpoint, name) != value}
    if changed:
        for name, value in changed.items():
            setattr(endpoint, name, value)
        endpoint.save(update_fields=[*changed, "updated_at"])
        activity_log(action="webhook_endpoint.updated", entity=endpoint, actor_type=ActorType.BROKER, broker=broker,
                     metadata={"changed": sorted(changed)})
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, broker, endpoint_id) -> None:
    endpoint = selectors.endpoint_get(broker=broker, endpoint_id=endpoint_id)
    activity_log(action="webhook_endpoint.deleted", entity=endpoint, actor_type=ActorType.BROKER, broker=broker,
                 metadata={"url": endpoint.url})
    endpoint.delete()


@transaction.atomic
def webhook_secret_rotate(*, broker, endpoint_id, overlap_seconds: int | None = None) -> tuple[WebhookEndpoint, str]:
    """A new secret (returned once); the old one keeps signing beside it during the overlap."""
    endpoint = selectors.endpoint_get(broker=broker, endpoint_id=endpoint_id)
    if overlap_seconds is None:
        overlap_seconds = settings.BROKER_WEBHOOKS_SECRET_OVERLAP_SECONDS
    if not isinstance(overlap_seconds, int) or not 0 <= overlap_seconds <= 7 * 86400:
        raise ValidationFailed("The overlap is 0 to 604800 seconds.", code="VALIDATION_ERROR",
                               details=[{"field": "overlap_seconds", "message": "0..604800", "type": "out_of_range"}])
    secret = new_secret()
    endpoint.previous_secret = endpoint.secret if overlap_seconds else ""
    endpoint.previous_secret_expires_at = timezone.now() + timedelta(seconds=overlap_seconds) if overlap_seconds else None
    endpoint.secret = secret
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    activity_log(action="webhook_endpoint.secret_rotated", entity=endpoint, actor_type=ActorType.BROKER,
                 broker=broker, metadata={"overlap_seconds": overlap_seconds})
    return endpoint, secret


@transaction.atomic
def webhook_delivery_resend(*, broker, delivery_id) -> WebhookDelivery:
    """Send the same event (same id) to the same endpoint again, now, with a fresh retry schedule."""
    delivery = selectors.delivery_get(broker=broker, delivery_id=delivery_id)
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.endpoint.status != EndpointStatus.ENABLED:
        raise Conflict("Enable the endpoint before resending to it.", code="WEBHOOK_ENDPOINT_DISABLED")
    delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING, 0, None
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
    deliver_webhook.enqueue(delivery_id=str(delivery.pk))
    activity_log(action="webhook_delivery.resent", entity=delivery, actor_type=ActorType.BROKER, broker=broker,
                 metadata={"event": delivery.event.public_id})
    return delivery


@transaction.atomic
def webhook_send_test(*, broker, endpoint_id) -> WebhookDelivery:
    """A `webhook.test` event to this endpoint only, whatever events it subscribed to."""
    endpoint = selectors.endpoint_get(broker=broker, endpoint_id=endpoint_id)
    if endpoint.status != EndpointStatus.ENABLED:
        raise Conflict("Enable the endpoint before sending to it.", code="WEBHOOK_ENDPOINT_DISABLED")
    event = WebhookEvent.objects.create(broker=broker, type=EventType.TEST,
                                        data={"object": "test", "message": "This is a test event from Tradeline."})
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint)
    deliver_webhook.enqueue(delivery_id=str(delivery.pk))
    activity_log(action="webhook_endpoint.test_sent", entity=endpoint, actor_type=ActorType.BROKER, broker=broker,
                 metadata={"event": event.public_id})
    return delivery


def webhook_requeue_due() -> int:
    """Enqueue every pending delivery whose time has come (a task lost with a crashed worker)."""
    now = timezone.now()
    due = WebhookDelivery.objects.filter(
        Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, updated_at__lte=now - timedelta(minutes=1)),
        status=DeliveryStatus.PENDING)
    count = 0
    for delivery_id in due.values_list("pk", flat=True).iterator():
        deliver_webhook.enqueue(delivery_id=str(delivery_id))
        count += 1
    return count
