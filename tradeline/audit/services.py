"""The activity log: one explicit call per action (never signals)."""

from typing import Any

from django.db import models

from tradeline.audit.models import ActivityLog, ActorType


def activity_log(
    *,
    action: str,
    entity: models.Model | None = None,
    entity_type: str = "",
    entity_id: str = "",
    actor_type: str = ActorType.SYSTEM,
    actor_user=None,
    broker=None,
    metadata: dict[str, Any] | None = None,
) -> ActivityLog:
    if entity is not None:
        entity_type = entity_type or entity._meta.object_name
        entity_id = entity_id or str(entity.pk)
    if actor_user is not None and actor_type == ActorType.SYSTEM:
        actor_type = ActorType.ADMIN
    return ActivityLog.objects.create(
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        actor_type=actor_type,
        actor_user=actor_user,
        broker=broker,
        metadata=metadata or {},
    )
