"""Webhooks to brokers: the endpoints a broker registers, the events we send, one delivery per
(event, endpoint)."""

from django.db import models
from django.db.models import Q

from tradeline.core.models import TimeStampedModel


class EventType(models.TextChoices):
    ORDER_PAID = "order.paid"
    ORDER_REFUNDED = "order.refunded"
    ORDER_FULFILLED = "order.fulfilled"
    ORDER_STATUS_CHANGED = "order.status_changed"
    COMMISSION_CREATED = "commission.created"
    COMMISSION_CLAWED_BACK = "commission.clawed_back"
    PAYOUT_SENT = "payout.sent"
    TEST = "webhook.test"  # "send test event": goes to one endpoint whatever it subscribed to


SUBSCRIBABLE = [choice for choice in EventType.values if choice != EventType.TEST]


class EndpointStatus(models.TextChoices):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class WebhookEndpoint(TimeStampedModel):
    broker = models.ForeignKey("brokers.Broker", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)  # subset of SUBSCRIBABLE
    # The signing secret must be readable to sign (like Stripe's whsec_): shown to the broker once.
    secret = models.CharField(max_length=80)
    previous_secret = models.CharField(max_length=80, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=EndpointStatus.choices, default=EndpointStatus.ENABLED)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    consecutive_failures = models.IntegerField(default=0)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.url


class WebhookEvent(TimeStampedModel):
    """One business event for one broker; `public_id` (evt_…) is what receivers dedupe on."""

    broker = models.ForeignKey("brokers.Broker", on_delete=models.CASCADE, related_name="webhook_events")
    type = models.CharField(max_length=40, choices=EventType.choices)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at"]

    @property
    def public_id(self) -> str:
        return f"evt_{self.pk.hex}"

    def __str__(self) -> str:
        return f"{self.type} {self.public_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "PENDING"  # waiting for its (next) attempt
    SUCCEEDED = "SUCCEEDED"  # a 2xx came back
    FAILED = "FAILED"  # gave up: retries used up, endpoint disabled or address refused


class WebhookDelivery(TimeStampedModel):
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.IntegerField(null=True, blank=True)
    response_body = models.CharField(max_length=1024, blank=True)  # the first 1 KB, never more
    duration_ms = models.IntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="one_delivery_per_event_endpoint")]
        indexes = [models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_recent"),
                   models.Index(fields=["next_attempt_at"], condition=Q(status="PENDING"), name="delivery_pending_due")]
