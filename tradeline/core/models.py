import uuid

from django.db import models
from django.utils import timezone


class TimeStampedModel(models.Model):
    """Base for every table: a UUID key and creation/update times (UTC)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
