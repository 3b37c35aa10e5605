from django.db import models
from django.db.models import Q

from tradeline.core.models import TimeStampedModel


class Tradeline(TimeStampedModel):
    """The last good snapshot of one supplier tradeline (base price P in cents)."""

    card_id = models.CharField(max_length=64, unique=True)
    bank_name = models.CharField(max_length=200)
    credit_limit = models.BigIntegerField(default=0)  # cents
    date_opened = models.CharField(max_length=64, blank=True)  # as the supplier gives it
    purchase_deadline = models.CharField(max_length=64, blank=True)
    reporting_period = models.CharField(max_length=64, blank=True)
    stock = models.IntegerField(default=0)
    price = models.BigIntegerField()  # base price P, cents
    image = models.URLField(max_length=500, blank=True)
    is_available = models.BooleanField(default=True)  # false when gone from the supplier's list
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["bank_name", "card_id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="tradeline_price_nonneg"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="tradeline_stock_nonneg"),
            models.CheckConstraint(condition=Q(credit_limit__gte=0), name="tradeline_limit_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.bank_name} ({self.card_id})"


class CatalogSync(TimeStampedModel):
    """One catalog refresh from the supplier."""

    class Status(models.TextChoices):
        SUCCEEDED = "SUCCEEDED"
        FAILED = "FAILED"

    status = models.CharField(max_length=16, choices=Status.choices)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_received = models.IntegerField(default=0)
    rows_stored = models.IntegerField(default=0)
    rows_skipped = models.IntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
