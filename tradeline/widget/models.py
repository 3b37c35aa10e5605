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
