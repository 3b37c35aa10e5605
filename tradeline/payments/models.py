from django.conf import settings
from django.db import models
from django.db.models import F, Q

from tradeline.core.models import TimeStampedModel
from tradeline.orders.models import DisputeStatus, PaymentMethod, PaymentStatus


class PaymentRole(models.TextChoices):
    ATTEMPT = "ATTEMPT"  # not (yet) money for the order: an open, failed or cancelled attempt
    PAYING = "PAYING"  # the one payment that pays its order (a partial unique constraint)
    EXCESS = "EXCESS"  # money taken beyond the paying payment: to be refunded (docs/domain.md)


class PaymentQuerySet(models.QuerySet):
    def locked(self, pk) -> "Payment":
        """One payment row locked FOR UPDATE; take it after its order's lock (docs/domain.md
        "Lock order"). Raises Payment.DoesNotExist."""
        return self.select_for_update(of=("self",)).get(pk=pk)


class Payment(TimeStampedModel):
    """One attempt to take money for an order: a Checkout Session, a payment link, a payment
    seen only through its payment intent, or an admin's manual (CASH / WIRE / CHECK) record.

    Life cycle (docs/domain.md "Payment"): PENDING -> SUCCEEDED -> PARTIALLY_REFUNDED -> REFUNDED,
    or PENDING -> FAILED / CANCELLED. At most one payment per order has role PAYING; any other
    succeeded payment is EXCESS. Written only by tradeline.payments.services.
    """

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=8, choices=PaymentMethod.choices, default=PaymentMethod.STRIPE)
    role = models.CharField(max_length=8, choices=PaymentRole.choices, default=PaymentRole.ATTEMPT)
    status = models.CharField(max_length=24, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    amount = models.BigIntegerField(default=0)  # cents received (the order total until then)
    currency = models.CharField(max_length=3, default="usd")
    amount_refunded = models.BigIntegerField(default=0)  # cumulative, as Stripe reports it; never lowered
    dispute_status = models.CharField(max_length=8, choices=DisputeStatus.choices, default=DisputeStatus.NONE)
    stripe_session_id = models.CharField(max_length=255, null=True, blank=True)
    stripe_payment_intent = models.CharField(max_length=255, null=True, blank=True)
    stripe_charge_id = models.CharField(max_length=255, null=True, blank=True)
    stripe_payment_link_id = models.CharField(max_length=255, null=True, blank=True)
    stripe_payment_link_url = models.URLField(max_length=500, blank=True)
    reference = models.CharField(max_length=200, blank=True)  # receipt / wire / check number, or the intent
    recorded_by = models.ForeignKey(  # the admin who recorded a manual payment
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        # Excess payments are rare and each needs attention until refunded: the overview and the
        # refund sweep find them through this small partial index, not a scan of every payment.
        indexes = [models.Index(fields=["paid_at", "id"], condition=Q(role="EXCESS"), name="payment_excess")]
        constraints = [
            models.UniqueConstraint(fields=["order"], condition=Q(role="PAYING"), name="payment_one_paying_per_order"),
            models.UniqueConstraint(fields=["stripe_session_id"], name="payment_stripe_session_unique"),
            models.UniqueConstraint(fields=["stripe_payment_intent"], name="payment_stripe_intent_unique"),
            models.UniqueConstraint(fields=["stripe_charge_id"], name="payment_stripe_charge_unique"),
            models.UniqueConstraint(fields=["stripe_payment_link_id"], name="payment_stripe_link_unique"),
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(amount_refunded__gte=0) & Q(amount_refunded__lte=F("amount")),
                name="payment_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=~Q(role="PAYING") | Q(status__in=["SUCCEEDED", "PARTIALLY_REFUNDED", "REFUNDED"]),
                name="payment_paying_is_paid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.status} {self.amount}"


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
    # The payment refunded (null only for rows older than payments; the migration fills it).
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    stripe_refund_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]
