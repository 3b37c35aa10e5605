"""Small database helpers shared by services (public Django APIs only)."""

import re

from django.db import connections, router
from django.db.models import Model

LOCK_TIMEOUT_FORMAT = re.compile(r"\d+(ms|s|min)?")


def set_local_lock_timeout(lock_timeout: str, *, using: str = "default") -> None:
    """`SET LOCAL lock_timeout` for the rest of the current transaction (PostgreSQL; elsewhere
    nothing). A raw statement: the ORM has no way to say it. The value is checked against
    LOCK_TIMEOUT_FORMAT first, so it cannot carry SQL."""
    if not LOCK_TIMEOUT_FORMAT.fullmatch(lock_timeout):
        raise ValueError(f"not a lock timeout: {lock_timeout!r}")
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{lock_timeout}'")


def insert_unless_present(obj: Model, *, lock_timeout: str | None = None) -> bool:
    """INSERT `obj` unless one of its table's unique constraints already holds such a row
    (`bulk_create(ignore_conflicts=True)`: ON CONFLICT DO NOTHING, no savepoint needed). True if
    this call inserted the row, read back by its fresh primary key.

    `lock_timeout` (PostgreSQL; e.g. "5s"): `SET LOCAL lock_timeout` first, for the rest of the
    transaction, so the INSERT waits only that long for a concurrent transaction inserting the
    same key."""
    model = type(obj)
    if lock_timeout:
        set_local_lock_timeout(lock_timeout, using=router.db_for_write(model))
    model._default_manager.bulk_create([obj], ignore_conflicts=True)
    return model._default_manager.filter(pk=obj.pk).exists()
