from django.db import models
from django.db.models import F, Q

from tradeline.core.models import TimeStampedModel


class OrderStatus(models.TextChoices):
    PENDING = "PENDING"  # created, waiting for payment
    PROCESSING = "PROCESSING"  # paid, fulfillment at the supplier under way (or failed: see the SupplierOrder)
    COMPLETED = "COMPLETED"  # paid and placed at the supplier
    ON_HOLD = "ON_HOLD"  # payment received but does not match the order: an admin must review
    FAILED = "FAILED"  # payment failed (async method declined)
    CANCELLED = "CANCELLED"  # never paid (session expired, cancelled by admin, or checkout failed)
    REFUNDED = "REFUNDED"  # fully refunded


class PaymentStatus(models.TextChoices):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"


class FulfillmentStatus(models.TextChoices):
    NOT_STARTED = "NOT_STARTED"
    QUEUED = "QUEUED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"  # gave up after FULFILLMENT_MAX_ATTEMPTS: needs an admin


class DisputeStatus(models.TextChoices):
    NONE = "NONE"
    OPEN = "OPEN"
    WON = "WON"
    LOST = "LOST"


# The payment states in which money was taken (and may since have been refunded): the one definition.
PAID_PAYMENT_STATES = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
UNPAID_PAYMENT_STATES = (PaymentStatus.PENDING, PaymentStatus.FAILED, PaymentStatus.CANCELLED)
# Paid and not fully refunded yet: what an admin can still refund.
REFUNDABLE_PAYMENT_STATES = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)


class PaymentMethod(models.TextChoices):
    STRIPE = "STRIPE"
    CASH = "CASH"
    WIRE = "WIRE"
    CHECK = "CHECK"


# What an order list's summary adds up (orders.list_selectors.order_summary): kept in the list indexes.
SUMMARY_COLUMNS = ["status", "total_charged", "amount_refunded", "platform_net_revenue", "broker_revenue_share",
                   "broker_markup"]


MANUAL_METHODS = (PaymentMethod.CASH, PaymentMethod.WIRE, PaymentMethod.CHECK)


class OrderQuerySet(models.QuerySet):
    def locked(self, pk) -> "Order":
        """The order row locked FOR UPDATE: the one way an order is locked, and the first lock of
        docs/domain.md "Lock order"; only this row, not the broker's (of=self). Raises
        Order.DoesNotExist (ValueError / ValidationError for a malformed pk). Call inside
        transaction.atomic(); on SQLite the database-wide write lock serialises writers instead."""
        return self.select_for_update(of=("self",)).get(pk=pk)


class Order(TimeStampedModel):
    """A customer's order. Prices are frozen at creation; all money is integer cents.

    Totals are sums of the items' line totals:
      total_charged = subtotal_base + broker_markup
      subtotal_base = supplier_cost + platform_gross
      platform_gross = platform_net_revenue + broker_revenue_share
    """

    order_number = models.CharField(max_length=32, unique=True)
    broker = models.ForeignKey(
        "brokers.Broker", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    customer_email = models.EmailField()
    customer_name = models.CharField(max_length=200, blank=True)
    customer_phone = models.CharField(max_length=40, blank=True)

    # The one life-cycle status: changed only by orders.services.order_transition (its TRANSITIONS
    # table; docs/domain.md "Order").
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    # Summaries (docs/domain.md "Summaries on the order"), saved only through order_transition:
    # payment_status / dispute_status copy the paying Payment (payments.services.common.payment_summary;
    # CANCELLED / FAILED come from the transition table); fulfillment_status copies the SupplierOrder
    # (fulfillment.services; QUEUED on the paid move).
    payment_status = models.CharField(max_length=24, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    fulfillment_status = models.CharField(
        max_length=16, choices=FulfillmentStatus.choices, default=FulfillmentStatus.NOT_STARTED
    )
    dispute_status = models.CharField(max_length=8, choices=DisputeStatus.choices, default=DisputeStatus.NONE)

    # Frozen money (cents).
    subtotal_base = models.BigIntegerField()
    supplier_cost = models.BigIntegerField()
    platform_gross = models.BigIntegerField()
    platform_net_revenue = models.BigIntegerField()
    broker_revenue_share = models.BigIntegerField()
    broker_markup = models.BigIntegerField()
    total_charged = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    # Frozen pricing inputs, for the record.
    platform_commission_percent = models.DecimalField(max_digits=5, decimal_places=2)
    revenue_share_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)

    # Payment summary: copies of the paying payments.Payment row (docs/domain.md "Summaries on the
    # order"), saved only through orders.services.order_transition with the values
    # payments.services.common.payment_summary computes. Stripe ids and manual-payment details live
    # on the Payment rows, supplier details on fulfillment.SupplierOrder.
    amount_paid = models.BigIntegerField(default=0)
    amount_refunded = models.BigIntegerField(default=0)  # cumulative, as Stripe reports it
    paid_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # When an unpaid order's checkout is expected to close (the sweep cancels it afterwards).
    checkout_expires_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.TextField(blank=True)

    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Why a PENDING order was cancelled (admin reason, failed checkout, expired session).
    cancellation_reason = models.CharField(max_length=500, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["broker", "status", "created_at"]),
            models.Index(fields=["status", "fulfillment_status"]),
            models.Index(fields=["customer_email"]),
            # The lists, newest first, and their summaries: all orders, one broker's, one status's.
            # Keys end with the id (the tie-break of the order and of cursors); the summary columns
            # ride along, so a summary or a deep page is read from the index alone (PostgreSQL).
            models.Index(fields=["created_at", "id"], include=SUMMARY_COLUMNS + ["broker"], name="order_list"),
            models.Index(fields=["broker", "created_at", "id"], include=SUMMARY_COLUMNS + ["paid_at"],
                         name="order_list_broker"),  # paid_at: a broker's sales figures (analytics)
            models.Index(fields=["status", "created_at", "id"], include=SUMMARY_COLUMNS, name="order_list_status"),
            # The admin overview's "needs attention" list: a few rows out of millions.
            models.Index(fields=["created_at"], name="order_needs_attention",
                         condition=Q(status="ON_HOLD") | Q(fulfillment_status="FAILED")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(subtotal_base__gte=0)
                & Q(supplier_cost__gte=0)
                & Q(platform_gross__gte=0)
                & Q(platform_net_revenue__gte=0)
                & Q(broker_revenue_share__gte=0)
                & Q(broker_markup__gte=0)
                & Q(total_charged__gte=0)
                & Q(amount_paid__gte=0)
                & Q(amount_refunded__gte=0),
                name="order_money_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(total_charged=F("subtotal_base") + F("broker_markup")), name="order_total_adds_up"
            ),
            models.CheckConstraint(
                condition=Q(subtotal_base=F("supplier_cost") + F("platform_gross")), name="order_base_adds_up"
            ),
            models.CheckConstraint(
                condition=Q(platform_gross=F("platform_net_revenue") + F("broker_revenue_share")),
                name="order_commission_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(amount_refunded__lte=F("amount_paid")) | Q(amount_refunded=0),
                name="order_refund_within_paid",
            ),
        ]

    def __str__(self) -> str:
        return self.order_number

    @property
    def broker_earnings(self) -> int:
        return self.broker_revenue_share + self.broker_markup

    @property
    def paying_payment(self):
        """The payments.Payment that pays this order (role PAYING), else the latest attempt, else
        None. Reads the prefetched `payments` when they were prefetched."""
        payments = sorted(self.payments.all(), key=lambda p: (p.role != "PAYING", -p.created_at.timestamp()))
        return payments[0] if payments else None

    @property
    def supplier(self):
        """The fulfillment.SupplierOrder of this order, or None before the order was paid."""
        try:
            return self.supplier_order
        except models.ObjectDoesNotExist:
            return None


class OrderItem(TimeStampedModel):
    """One line: unit prices frozen at order time, line totals = unit × quantity."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    card_id = models.CharField(max_length=64)
    bank_name = models.CharField(max_length=200)
    credit_limit = models.BigIntegerField(default=0)  # cents
    date_opened = models.CharField(max_length=64, blank=True)
    reporting_period = models.CharField(max_length=64, blank=True)
    purchase_deadline = models.CharField(max_length=64, blank=True)  # the supplier's text, frozen at checkout
    quantity = models.IntegerField()

    base_price = models.BigIntegerField()  # P
    platform_gross = models.BigIntegerField()  # G
    revenue_share = models.BigIntegerField()  # S
    markup = models.BigIntegerField()  # M
    customer_price = models.BigIntegerField()  # U = P + M

    total_base = models.BigIntegerField()
    total_platform_gross = models.BigIntegerField()
    total_revenue_share = models.BigIntegerField()
    total_markup = models.BigIntegerField()
    total_customer_price = models.BigIntegerField()

    class Meta:
        ordering = ["created_at", "card_id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1) & Q(quantity__lte=10), name="item_quantity_1_10"),
            models.CheckConstraint(
                condition=Q(base_price__gte=0)
                & Q(platform_gross__gte=0)
                & Q(revenue_share__gte=0)
                & Q(markup__gte=0)
                & Q(platform_gross__lte=F("base_price"))
                & Q(revenue_share__lte=F("platform_gross")),
                name="item_unit_money_valid",
            ),
            models.CheckConstraint(
                condition=Q(customer_price=F("base_price") + F("markup")), name="item_price_adds_up"
            ),
            models.CheckConstraint(
                condition=Q(total_base=F("base_price") * F("quantity"))
                & Q(total_platform_gross=F("platform_gross") * F("quantity"))
                & Q(total_revenue_share=F("revenue_share") * F("quantity"))
                & Q(total_markup=F("markup") * F("quantity"))
                & Q(total_customer_price=F("customer_price") * F("quantity")),
                name="item_totals_are_unit_times_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.bank_name}"
