from django.db import models
from django.db.models import Q

from tradeline.core.models import TimeStampedModel


class BrokerDailyStats(TimeStampedModel):
    """One broker's figures for one UTC day. Incremented in place only (services.stats_increment)."""

    broker = models.ForeignKey("brokers.Broker", on_delete=models.CASCADE, related_name="daily_stats")
    date = models.DateField()
    widget_loads = models.IntegerField(default=0)
    checkout_starts = models.IntegerField(default=0)
    orders_count = models.IntegerField(default=0)
    total_sales = models.BigIntegerField(default=0)
    revenue_share_earned = models.BigIntegerField(default=0)
    markup_earned = models.BigIntegerField(default=0)
    refunds_count = models.IntegerField(default=0)
    refunded_amount = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-date"]
        verbose_name = "broker daily stats"
        verbose_name_plural = "broker daily stats"
        constraints = [
            models.UniqueConstraint(fields=["broker", "date"], name="one_stats_row_per_broker_day"),
            models.CheckConstraint(
                condition=Q(widget_loads__gte=0) & Q(checkout_starts__gte=0) & Q(orders_count__gte=0)
                & Q(total_sales__gte=0) & Q(revenue_share_earned__gte=0) & Q(markup_earned__gte=0)
                & Q(refunds_count__gte=0) & Q(refunded_amount__gte=0),
                name="stats_nonneg",
            ),
        ]
