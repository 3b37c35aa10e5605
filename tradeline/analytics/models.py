from django.db import models
from django.db.models import Q

from tradeline.core.models import TimeStampedModel


class BrokerDailyStats(TimeStampedModel):
    """One broker's figures for one UTC day. Incremented in place only (services.stats_increment)."""

    broker = models.ForeignKey("brokers.Broker", on_delete=models.CASCADE, related_name="daily_stats")
    date = models.DateField()
    widget_loads = models.IntegerField(default=0)  # widget views
    unique_visitors = models.IntegerField(default=0)  # distinct daily visitor hashes (see VisitorDay)
    cart_adds = models.IntegerField(default=0)
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
                condition=Q(widget_loads__gte=0) & Q(unique_visitors__gte=0) & Q(cart_adds__gte=0)
                & Q(checkout_starts__gte=0) & Q(orders_count__gte=0)
                & Q(total_sales__gte=0) & Q(revenue_share_earned__gte=0) & Q(markup_earned__gte=0)
                & Q(refunds_count__gte=0) & Q(refunded_amount__gte=0),
                name="stats_nonneg",
            ),
        ]


class VisitorSalt(models.Model):
    """The random salt of one UTC day's visitor hashes. Deleted once the day is over, so a visitor
    hash can no longer be recomputed from an IP address and user agent afterwards."""

    date = models.DateField(unique=True)
    salt = models.CharField(max_length=64)

    def __str__(self) -> str:
        return str(self.date)


class VisitorDay(models.Model):
    """One visitor seen on one broker's widget on one UTC day, as a salted hash only: no cookie is
    set and no IP address is stored. Rows of past days are pruned with their salt."""

    broker = models.ForeignKey("brokers.Broker", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    visitor_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["broker", "date", "visitor_hash"], name="one_visitor_per_broker_day"),
        ]
