from django.db import models
from django.db.models import Q

from tradeline.core.models import TimeStampedModel
from tradeline.fulfillment.posting import PostingStage
from tradeline.orders.models import FulfillmentStatus


class SupplierOrderQuerySet(models.QuerySet):
    def locked_of_order(self, order_id) -> "SupplierOrder | None":
        """The order's supplier order locked FOR UPDATE (None before it was paid); after the
        order's lock (docs/domain.md "Lock order")."""
        return self.select_for_update(of=("self",)).filter(order_id=order_id).first()

    def due(self, now):
        """Rows an attempt may claim now: not placed, not given up, no lease held, backoff over."""
        return self.filter(
            supplier_order_id__isnull=True, status__in=[FulfillmentStatus.NOT_STARTED, FulfillmentStatus.QUEUED],
        ).filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now)).filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


class SupplierOrder(TimeStampedModel):
    """The supplier side of one paid order (one row per order, made by the paid transition).

    Life cycle (docs/domain.md "Supplier order"): QUEUED -> SUCCEEDED (placed, supplier id kept)
    or -> FAILED after the last attempt (an admin retries: back to QUEUED). Written only by
    tradeline.fulfillment.services."""

    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="supplier_order")
    status = models.CharField(max_length=16, choices=FulfillmentStatus.choices, default=FulfillmentStatus.QUEUED)
    attempts = models.IntegerField(default=0)
    leased_until = models.DateTimeField(null=True, blank=True)  # a worker is talking to the supplier
    next_attempt_at = models.DateTimeField(null=True, blank=True)  # backoff after a failed attempt
    supplier_order_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    supplier_order_number = models.CharField(max_length=64, blank=True)
    supplier_status = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    placed_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    objects = SupplierOrderQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [models.CheckConstraint(condition=Q(attempts__gte=0), name="supplier_order_attempts_nonneg")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.status}"


class SupplierStatusEvent(TimeStampedModel):
    """One status the supplier reported for a supplier order, with the supplier's time of the change
    (`occurred_at`, its date_modified) and our stage for it. Unique per supplier order + status, so a
    status seen again by the poller is a no-op. Written only by tradeline.fulfillment.tracking."""

    supplier_order = models.ForeignKey(SupplierOrder, on_delete=models.PROTECT, related_name="status_events")
    supplier_status = models.CharField(max_length=32)
    stage = models.CharField(max_length=16, choices=PostingStage.choices, blank=True)
    occurred_at = models.DateTimeField()
    note = models.TextField(blank=True)  # the supplier's customer-visible note, if any

    class Meta:
        ordering = ["occurred_at", "created_at"]
        constraints = [models.UniqueConstraint(fields=["supplier_order", "supplier_status"],
                                               name="supplier_status_event_once")]

    def __str__(self) -> str:
        return f"{self.supplier_order_id}: {self.supplier_status}"
