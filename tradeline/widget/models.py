from django.db import models

from tradeline.core.models import TimeStampedModel


class DemoPage(TimeStampedModel):
    """The local demo shop's page (`/demo/`): which broker it sells for, with which publishable key.

    Publishable keys are public by design (they sit in every broker's HTML), so keeping the
    plaintext here is fine; secret keys are never stored.
    """

    broker = models.ForeignKey("brokers.Broker", on_delete=models.CASCADE, related_name="+")
    publishable_key = models.CharField(max_length=100)
    title = models.CharField(max_length=200, default="Prime Credit Partners")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class WidgetSort(models.TextChoices):
    PRICE_ASC = "price", "Price: low to high"
    PRICE_DESC = "-price", "Price: high to low"
    LIMIT_DESC = "-limit", "Credit limit: high to low"
    AGE_DESC = "-age", "Age: oldest first"
    POSTING = "posting", "Posting date: soonest first"


class WidgetFont(models.TextChoices):
    SYSTEM = "system", "System (default)"
    SERIF = "serif", "Serif"
    ROUNDED = "rounded", "Rounded"
    MONO = "mono", "Monospace"


class WidgetTheme(TimeStampedModel):
    """A broker's widget look and return URLs, served by GET /api/public/config.

    Blank colours and URLs mean "the default". Colours are #rrggbb only (they end up in CSS).
    """

    broker = models.OneToOneField("brokers.Broker", on_delete=models.CASCADE, related_name="widget_theme")
    title = models.CharField(max_length=80, blank=True)
    primary_color = models.CharField(max_length=7, blank=True)
    text_color = models.CharField(max_length=7, blank=True)
    background_color = models.CharField(max_length=7, blank=True)
    font_family = models.CharField(max_length=16, choices=WidgetFont.choices, default=WidgetFont.SYSTEM)
    corner_radius = models.PositiveSmallIntegerField(default=12)
    columns = models.PositiveSmallIntegerField(default=0)  # 0 = as many as fit
    default_sort = models.CharField(max_length=16, choices=WidgetSort.choices, default=WidgetSort.PRICE_ASC)
    success_url = models.URLField(max_length=500, blank=True)
    cancel_url = models.URLField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"widget theme of {self.broker}"
