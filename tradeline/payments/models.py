from django.conf import settings
from django.db import models
from django.db.models import Q

from tradeline.core.models import TimeStampedModel


class WebhookEvent(TimeStampedModel):
    """Inbox of received webhook events. (source, event_id) is unique: a duplicate is a no-op."""

    class Status(models.TextChoices):
        RECEIVED = "RECEIVED"
        PROCESSED = "PROCESSED"
        IGNORED = "IGNORED"  # not ours / unknown type: acknowledged, nothing to do
        NEEDS_REVIEW = "NEEDS_REVIEW"  # permanent problem (unknown order, amount mismatch)
        FAILED = "FAILED"  # transient failure: the sender will retry
        DEFERRED = "DEFERRED"  # a refund seen before its order was paid: applied by the paid transition

    source = models.CharField(max_length=16, default="stripe")
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100, db_index=True)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    error = models.TextField(blank=True)
    attempts = models.IntegerField(default=0)
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["source", "event_id"], name="webhook_event_unique")]

    def __str__(self) -> str:
        return f"{self.source}:{self.event_id} {self.event_type}"


class Refund(TimeStampedModel):
    """A refund asked for by an admin (or seen from Stripe), keyed on Stripe's refund id."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        SUCCEEDED = "SUCCEEDED"
        FAILED = "FAILED"

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    stripe_refund_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]
