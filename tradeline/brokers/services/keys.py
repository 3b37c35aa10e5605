"""Broker API keys: rotate (new plaintext shown once, old ones revoked) and revoke one.

Each change is one transaction with the broker row locked, and one activity-log entry; a revoked
key leaves the key cache after the commit.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_log
from tradeline.brokers import keys
from tradeline.brokers.auth import forget_key
from tradeline.brokers.locks import broker_lock
from tradeline.brokers.models import BrokerApiKey, KeyKind
from tradeline.brokers.validators import invalid_field
from tradeline.core.errors import Conflict, NotFound

_KEY_PREFIXES = {KeyKind.PUBLISHABLE: keys.PUBLISHABLE_PREFIX, KeyKind.SECRET: keys.SECRET_PREFIX}
_KEY_OUT_NAMES = {KeyKind.PUBLISHABLE: "publishable_key", KeyKind.SECRET: "secret_key"}


@transaction.atomic
def broker_keys_rotate(*, broker_id, kind: str | None = None, actor_user=None,
                       actor_type: str | None = None) -> dict[str, str]:
    """Replace the live key of `kind` (both kinds when None). Returns the new plaintext keys, shown once."""
    if kind is not None and kind not in KeyKind.values:
        raise invalid_field("kind", "kind must be PUBLISHABLE or SECRET.")
    broker = broker_lock(broker_id)
    kinds = [kind] if kind else [KeyKind.PUBLISHABLE, KeyKind.SECRET]
    now = timezone.now()
    issued: dict[str, str] = {}
    revoked_prefixes: list[str] = []
    for each in kinds:
        for old in BrokerApiKey.objects.filter(broker=broker, kind=each, revoked_at__isnull=True):
            old.revoked_at = now
            old.save(update_fields=["revoked_at", "updated_at"])
            revoked_prefixes.append(old.prefix)
        plaintext, prefix, key_hash = keys.new_key(_KEY_PREFIXES[each])
        BrokerApiKey.objects.create(broker=broker, kind=each, prefix=prefix, key_hash=key_hash)
        issued[_KEY_OUT_NAMES[each]] = plaintext
    for prefix in revoked_prefixes:
        transaction.on_commit(lambda prefix=prefix: forget_key(prefix))
    activity_log(action="broker.keys_rotated", entity=broker, actor_user=actor_user,
                 actor_type=actor_type or ActorType.SYSTEM, broker=broker,
                 metadata={"kinds": kinds, "revoked": revoked_prefixes})
    return issued


@transaction.atomic
def broker_key_revoke(*, broker_id, key_id, actor_user=None, actor_type: str | None = None) -> BrokerApiKey:
    """Revoke one key of this broker (404 for another broker's key; 409 if already revoked)."""
    broker = broker_lock(broker_id)
    try:
        key = BrokerApiKey.objects.select_for_update().get(pk=key_id, broker=broker)
    except (BrokerApiKey.DoesNotExist, DjangoValidationError, ValueError):
        raise NotFound("No such key.", code="KEY_NOT_FOUND") from None
    if key.revoked_at is not None:
        raise Conflict("This key is already revoked.", code="KEY_ALREADY_REVOKED")
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at", "updated_at"])
    transaction.on_commit(lambda: forget_key(key.prefix))
    activity_log(action="broker.key_revoked", entity=broker, actor_user=actor_user,
                 actor_type=actor_type or ActorType.SYSTEM, broker=broker,
                 metadata={"kind": key.kind, "prefix": key.prefix})
    return key
