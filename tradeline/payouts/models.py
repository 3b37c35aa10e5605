from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from tradeline.core.models import TimeStampedModel


class CommissionStatus(models.TextChoices):
    PAYABLE = "PAYABLE"  # earned, waiting for the next payout
    HELD = "HELD"  # the charge is disputed
    IN_PAYOUT = "IN_PAYOUT"  # taken by a PENDING payout
    PAID = "PAID"  # its payout was paid
    VOID = "VOID"  # reduced to zero (fully refunded / dispute lost) before any payout


class CommissionQuerySet(models.QuerySet):
    def locked_of_order(self, order_id) -> "CommissionRecord | None":
        """The order's commission locked FOR UPDATE (None if it has none); after the order's and
        its payments' locks (docs/domain.md "Lock order")."""
        return self.select_for_update(of=("self",)).filter(order_id=order_id).first()

    def of_payout(self, payout: "Payout"):
        """The payout's commission lines, found through the broker index (payout_id has none)."""
        return self.filter(broker_id=payout.broker_id, payout_id=payout.pk)


class CommissionRecord(TimeStampedModel):
    """What a broker earns on one paid order. Created once, when the order is paid.

    Amounts are what is still owed: a refund before payout reduces them; a refund after the
    commission went into a payout leaves them and books a negative CommissionAdjustment instead.
    """

    # A month-end run rewrites every commission it takes (status, payout), and marking the payout
    # paid rewrites them again. Both stay heap-only (HOT) updates on PostgreSQL, with no index
    # insertion at all, because (1) no index mentions status, payout_id or updated_at and (2) the
    # table keeps free room on every page (fillfactor, migration 0003). Per-payout reads therefore
    # go through the broker index: every query for a payout's lines also filters on the payout's
    # broker (`CommissionRecord.objects.of_payout`). Measured on 1M rows (PostgreSQL 15): the
    # marking UPDATE takes 3.2 s as HOT against 22 s with full pages and one index per changed column.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    broker = models.ForeignKey("brokers.Broker", on_delete=models.PROTECT, related_name="commissions",
                               db_index=False)
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="commission")
    original_revenue_share = models.BigIntegerField()
    original_markup = models.BigIntegerField()
    revenue_share_amount = models.BigIntegerField()
    markup_amount = models.BigIntegerField()
    total_commission = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=CommissionStatus.choices, default=CommissionStatus.PAYABLE)
    order_paid_at = models.DateTimeField()
    payout = models.ForeignKey(
        "payouts.Payout", null=True, blank=True, on_delete=models.SET_NULL, related_name="commissions",
        db_index=False,  # see above: read through the broker index (of_payout)
    )
    paid_at = models.DateTimeField(null=True, blank=True)

    objects = CommissionQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["broker", "order_paid_at"], name="commission_broker_paid_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(revenue_share_amount__gte=0)
                & Q(markup_amount__gte=0)
                & Q(revenue_share_amount__lte=F("original_revenue_share"))
                & Q(markup_amount__lte=F("original_markup")),
                name="commission_amounts_valid",
            ),
            models.CheckConstraint(
                condition=Q(total_commission=F("revenue_share_amount") + F("markup_amount")),
                name="commission_total_adds_up",
            ),
        ]


class AdjustmentStatus(models.TextChoices):
    OPEN = "OPEN"  # waiting for the next payout
    IN_PAYOUT = "IN_PAYOUT"
    APPLIED = "APPLIED"  # its payout was paid


class CommissionAdjustment(TimeStampedModel):
    """A signed correction to a broker's earnings, settled by the next payout (clawbacks are negative)."""

    class Reason(models.TextChoices):
        REFUND = "REFUND"
        DISPUTE_LOST = "DISPUTE_LOST"
        DISPUTE_REVERSED = "DISPUTE_REVERSED"
        MANUAL = "MANUAL"
        TRANSFER_REVERSAL = "TRANSFER_REVERSAL"  # money taken back from a Stripe transfer (connect.py)

    broker = models.ForeignKey("brokers.Broker", on_delete=models.PROTECT, related_name="adjustments")
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    commission = models.ForeignKey(
        CommissionRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="adjustments"
    )
    revenue_share_amount = models.BigIntegerField(default=0)
    markup_amount = models.BigIntegerField(default=0)
    amount = models.BigIntegerField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    status = models.CharField(max_length=16, choices=AdjustmentStatus.choices, default=AdjustmentStatus.OPEN)
    payout = models.ForeignKey(
        "payouts.Payout", null=True, blank=True, on_delete=models.SET_NULL, related_name="adjustments"
    )
    # Makes each correction happen once, e.g. "refund:<order id>:<cumulative refunded cents>".
    key = models.CharField(max_length=200, unique=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        indexes = [models.Index(fields=["broker", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount=F("revenue_share_amount") + F("markup_amount")), name="adjustment_adds_up"
            ),
        ]


class PayoutStatus(models.TextChoices):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class Payout(TimeStampedModel):
    """One broker's payout for one UTC calendar month [period_start, period_end)."""

    broker = models.ForeignKey("brokers.Broker", on_delete=models.PROTECT, related_name="payouts")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    total_revenue_share = models.BigIntegerField()
    total_markup = models.BigIntegerField()
    total_adjustments = models.BigIntegerField(default=0)
    total_amount = models.BigIntegerField()
    commission_count = models.IntegerField(default=0)
    adjustment_count = models.IntegerField(default=0)
    status = models.CharField(max_length=16, choices=PayoutStatus.choices, default=PayoutStatus.PENDING)
    payment_method = models.CharField(max_length=32, default="ACH")
    transaction_id = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    processed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-period_start", "broker"]
        # The admin's payout list, newest month first (PayoutAdmin.ordering), read in index order.
        indexes = [models.Index(fields=["-period_start", "broker"], name="payout_list")]
        constraints = [
            models.UniqueConstraint(
                fields=["broker", "period_start"],
                condition=Q(status__in=["PENDING", "COMPLETED"]),
                name="one_live_payout_per_broker_period",
            ),
            models.CheckConstraint(
                condition=Q(total_revenue_share__gte=0) & Q(total_markup__gte=0) & Q(total_amount__gt=0),
                name="payout_amounts_valid",
            ),
            models.CheckConstraint(
                condition=Q(total_amount=F("total_revenue_share") + F("total_markup") + F("total_adjustments")),
                name="payout_total_adds_up",
            ),
            models.CheckConstraint(condition=Q(period_end__gt=F("period_start")), name="payout_period_valid"),
        ]


# ---- Stripe Connect (services/connect.py, services/transfers.py) ------------------------------------


class ConnectedAccount(TimeStampedModel):
    """A broker's Stripe Express account: created once, kept current by account.updated events."""

    broker = models.OneToOneField("brokers.Broker", on_delete=models.PROTECT, related_name="connected_account")
    stripe_account_id = models.CharField(max_length=64, unique=True)
    details_submitted = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    transfers_active = models.BooleanField(default=False)
    requirements_due = models.JSONField(default=list, blank=True)
    disabled_reason = models.CharField(max_length=100, blank=True)
    # `created` of the newest account.updated applied: an older event delivered late changes nothing.
    last_event_created = models.BigIntegerField(default=0)

    @property
    def can_receive(self) -> bool:
        return self.payouts_enabled and self.transfers_active

    @property
    def state(self) -> str:
        if self.can_receive:
            return "ENABLED"
        if self.details_submitted:
            return "RESTRICTED" if self.requirements_due else "PENDING_VERIFICATION"
        return "ONBOARDING"


class PayoutTransfer(TimeStampedModel):
    """The Stripe Transfer of one payout. The row is claimed (SENDING) before Stripe is called and
    settled (SENT / DECLINED) after, each in its own short transaction; the idempotency key and the
    transfer group (= the payout id) make a repeat find the transfer instead of making a second."""

    class Status(models.TextChoices):
        SENDING = "SENDING"  # claimed; Stripe asked (or about to be); outcome not known yet
        SENT = "SENT"
        DECLINED = "DECLINED"

    payout = models.OneToOneField(Payout, on_delete=models.PROTECT, related_name="transfer")
    broker = models.ForeignKey("brokers.Broker", on_delete=models.PROTECT, related_name="+")
    destination = models.CharField(max_length=64)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    idempotency_key = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SENDING)
    stripe_transfer_id = models.CharField(max_length=64, blank=True)
    amount_reversed = models.BigIntegerField(default=0)
    attempts = models.IntegerField(default=0)
    failure_code = models.CharField(max_length=100, blank=True)
    failure_message = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["stripe_transfer_id"], condition=~Q(stripe_transfer_id=""),
                                    name="one_row_per_stripe_transfer"),
            models.CheckConstraint(condition=Q(amount__gt=0) & Q(amount_reversed__gte=0)
                                   & Q(amount_reversed__lte=F("amount")), name="payout_transfer_amounts_valid"),
        ]


class TransferReversal(TimeStampedModel):
    """Part of a sent transfer taken back (a deactivated broker owing clawbacks); booked as an adjustment."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        DONE = "DONE"
        FAILED = "FAILED"

    transfer = models.ForeignKey(PayoutTransfer, on_delete=models.PROTECT, related_name="reversals")
    broker = models.ForeignKey("brokers.Broker", on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    stripe_reversal_id = models.CharField(max_length=64, blank=True)
    failure_message = models.TextField(blank=True)
    adjustment = models.OneToOneField(CommissionAdjustment, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="reversal")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_reversal_amount_positive")]


class TaxProfile(TimeStampedModel):
    """A broker's tax details (for 1099-NEC). The TIN is stored encrypted (payouts/tax.py); only its
    last four digits are kept in clear, for the masked display."""

    class BusinessType(models.TextChoices):
        INDIVIDUAL = "INDIVIDUAL", "Individual / sole proprietor"
        LLC = "LLC", "Limited liability company"
        CORPORATION = "CORPORATION", "Corporation"
        PARTNERSHIP = "PARTNERSHIP", "Partnership"

    class TinType(models.TextChoices):
        SSN = "SSN"
        EIN = "EIN"
        ITIN = "ITIN"

    broker = models.OneToOneField("brokers.Broker", on_delete=models.PROTECT, related_name="tax_profile")
    legal_name = models.CharField(max_length=200)
    business_type = models.CharField(max_length=16, choices=BusinessType.choices)
    tin_type = models.CharField(max_length=4, choices=TinType.choices)
    tin_encrypted = models.TextField()
    tin_last4 = models.CharField(max_length=4)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2)
    postal_code = models.CharField(max_length=10)
    country = models.CharField(max_length=2, default="US")

    def __repr__(self) -> str:  # never the TIN, not even encrypted
        return f"<TaxProfile broker={self.broker_id} tin=***-**-{self.tin_last4}>"

    @property
    def tin_masked(self) -> str:
        return f"***-**-{self.tin_last4}" if self.tin_type != "EIN" else f"**-***{self.tin_last4}"
