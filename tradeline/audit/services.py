"""The activity log: one explicit call per action (never signals)."""

from collections.abc import Sequence
from typing import Any

from django.db import models

from tradeline.audit.models import ActivityLog, ActorType


def activity_entry(
    *,
    action: str,
    entity: models.Model | None = None,
    entity_type: str = "",
    entity_id: str = "",
    actor_type: str = ActorType.SYSTEM,
    actor_user=None,
    broker=None,
    broker_id=None,
    metadata: dict[str, Any] | None = None,
) -> ActivityLog:
    """One activity entry, not written yet (see activity_log / activity_log_many). The broker is
    given as `broker` or, when only its id is at hand (so it need not be loaded), as `broker_id`."""
    if entity is not None:
        entity_type = entity_type or entity._meta.object_name
        entity_id = entity_id or str(entity.pk)
    if actor_user is not None and actor_type == ActorType.SYSTEM:
        actor_type = ActorType.ADMIN
    broker_field = {"broker": broker} if broker is not None else {"broker_id": broker_id}
    return ActivityLog(
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        actor_type=actor_type,
        actor_user=actor_user,
        **broker_field,
        metadata=metadata or {},
    )


def activity_log(**fields: Any) -> ActivityLog:
    """One activity entry, written now (the keyword arguments are activity_entry's)."""
    entry = activity_entry(**fields)
    entry.save(force_insert=True)
    return entry


def activity_log_many(entries: Sequence[ActivityLog]) -> None:
    """Write entries made by activity_entry (e.g. the several entries of one paid order) in one INSERT."""
    ActivityLog.objects.bulk_create(entries)
