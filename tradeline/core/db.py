"""Small database helpers shared by services."""

from django.db import connections, router
from django.db.models import Model
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery


def insert_unless_present(obj: Model) -> bool:
    """INSERT `obj` unless one of its table's unique constraints already holds such a row (ON
    CONFLICT DO NOTHING, so no savepoint is needed). True if this call inserted the row."""
    model = type(obj)
    using = router.db_for_write(model)
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE)
    query.insert_values([f for f in model._meta.concrete_fields if not f.generated], [obj])
    with connections[using].cursor() as cursor:
        for sql, params in query.get_compiler(using=using).as_sql():
            cursor.execute(sql, params)
        inserted = cursor.rowcount == 1
    if inserted:
        obj._state.adding, obj._state.db = False, using
    return inserted
