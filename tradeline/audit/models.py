from django.conf import settings
from django.db import models

from tradeline.core.models import TimeStampedModel


class ActorType(models.TextChoices):
    SYSTEM = "SYSTEM"
    ADMIN = "ADMIN"
    BROKER = "BROKER"
    STRIPE = "STRIPE"
    SUPPLIER = "SUPPLIER"
    CUSTOMER = "CUSTOMER"


class ActivityLog(TimeStampedModel):
    """Append-only record of every state change: who, what, on which object."""

    actor_type = models.CharField(max_length=16, choices=ActorType.choices, default=ActorType.SYSTEM)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    broker = models.ForeignKey("brokers.Broker", null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=64, db_index=True)
    entity_type = models.CharField(max_length=32)
    entity_id = models.CharField(max_length=64)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["entity_type", "entity_id", "created_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.entity_type}:{self.entity_id}"
