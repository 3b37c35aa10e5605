"""Records kept as evidence of what the customer saw and was told: every view of the order-status
page, every customer email, and each Stripe dispute with its evidence submissions.

Writers: tradeline.evidence.services only (the dispute evidence submission: tradeline.chargebacks).
Rows are never updated except a dispute case's Stripe-side fields and an email's delivery result.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from tradeline.core.models import TimeStampedModel


class StatusPageView(TimeStampedModel):
    """One view of the order's status page through its signed link (time, address, browser)."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="status_views")
    viewed_at = models.DateTimeField(default=timezone.now)
    client_ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    as_json = models.BooleanField(default=False)

    class Meta:
        ordering = ("viewed_at",)
        indexes = [models.Index(fields=["order", "viewed_at"])]


class EmailStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    SENT = "SENT", "Sent"
    FAILED = "FAILED", "Failed"


class CustomerEmail(TimeStampedModel):
    """One email to the customer about an order. `key` names the change it reports (for example
    `stage:REPORTING`): unique per order, so a change seen twice is still told once."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="customer_emails")
    key = models.CharField(max_length=80)
    kind = models.CharField(max_length=32)
    recipient = models.EmailField(max_length=254)
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at",)
        constraints = [models.UniqueConstraint(fields=["order", "key"], name="customer_email_once_per_change")]


class DisputeCase(TimeStampedModel):
    """A Stripe dispute on an order's charge, as `charge.dispute.created` reported it, plus what we
    know of its evidence (Stripe's `evidence_details`) after each submission."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="dispute_cases")
    stripe_dispute_id = models.CharField(max_length=64, unique=True)
    charge_id = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=64, blank=True)
    amount = models.BigIntegerField(null=True, blank=True)  # cents
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=32, blank=True)  # Stripe's dispute status
    due_by = models.DateTimeField(null=True, blank=True)  # evidence_details.due_by
    submission_count = models.IntegerField(default=0)
    has_evidence = models.BooleanField(default=False)
    submitted_at = models.DateTimeField(null=True, blank=True)  # evidence submitted (final) at Stripe
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")

    class Meta:
        ordering = ("-created_at",)


class EvidenceSubmission(TimeStampedModel):
    """One sending of evidence to Stripe (a draft save or the final submission), kept as sent."""

    case = models.ForeignKey(DisputeCase, on_delete=models.PROTECT, related_name="submissions")
    submit = models.BooleanField()
    evidence = models.JSONField()
    idempotency_key = models.CharField(max_length=120, unique=True)
    admin = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    stripe_status = models.CharField(max_length=32, blank=True)
    submission_count = models.IntegerField(default=0)

    class Meta:
        ordering = ("created_at",)
