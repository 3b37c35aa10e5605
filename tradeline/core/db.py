"""Small database helpers shared by services."""

import re
from collections.abc import Sequence
from typing import Any

from django.db import DatabaseError, connections, router
from django.db.models import Model
from django.db.models.constants import OnConflict
from django.db.models.expressions import BaseExpression, RawSQL
from django.db.models.sql import InsertQuery, Query, UpdateQuery
from django.db.models.sql.compiler import SQLInsertCompiler

LOCK_TIMEOUT_FORMAT = re.compile(r"\d+(ms|s|min)?")


def _lock_timeout_prefix(connection, lock_timeout: str | None) -> str:
    """`SET LOCAL lock_timeout = ..; ` to send ahead of a statement in the same round trip ("" when
    the database has no such setting). Only a client-side-binding cursor (Django's default for
    psycopg) sends two statements at once; with server-side binding the SET is run here, alone."""
    if not lock_timeout:
        return ""
    if not LOCK_TIMEOUT_FORMAT.fullmatch(lock_timeout):
        raise ValueError(f"not a lock timeout: {lock_timeout!r}")
    if connection.vendor != "postgresql":
        return ""
    sql = f"SET LOCAL lock_timeout = '{lock_timeout}'"
    if connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"):
        with connection.cursor() as cursor:
            cursor.execute(sql)
        return ""
    return f"{sql}; "


def set_local_lock_timeout(lock_timeout: str, *, using: str = "default") -> None:
    """`SET LOCAL lock_timeout` for the rest of the current transaction (PostgreSQL; elsewhere nothing)."""
    connection = connections[using]
    sql = _lock_timeout_prefix(connection, lock_timeout)
    if sql:
        with connection.cursor() as cursor:
            cursor.execute(sql.removesuffix("; "))


def insert_unless_present(obj: Model, *, lock_timeout: str | None = None) -> bool:
    """INSERT `obj` unless one of its table's unique constraints already holds such a row (ON
    CONFLICT DO NOTHING, so no savepoint is needed). True if this call inserted the row.

    `lock_timeout` (PostgreSQL; e.g. "5s"): `SET LOCAL lock_timeout` for the rest of the
    transaction, sent with the INSERT in one round trip, so it already bounds the INSERT's own wait
    for a concurrent transaction inserting the same key."""
    model = type(obj)
    using = router.db_for_write(model)
    connection = connections[using]
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE)
    query.insert_values(_insert_fields(model), [obj])
    prefix = _lock_timeout_prefix(connection, lock_timeout)
    with connection.cursor() as cursor:
        for sql, params in query.get_compiler(using=using).as_sql():
            cursor.execute(prefix + sql, params)
            if prefix:
                cursor.nextset()  # the INSERT's result follows the SET's
                prefix = ""
        inserted = cursor.rowcount == 1
    if inserted:
        obj._state.adding, obj._state.db = False, using
    return inserted


def insert_all(objs: Sequence[Model]) -> None:
    """INSERT new rows of one model in one statement, a multi-row VALUES list. For a few rows
    this is cheaper than bulk_create, which on PostgreSQL inserts from UNNEST(arrays): more
    client CPU and server time than the round trips it saves."""
    if not objs:
        return
    model = type(objs[0])
    using = router.db_for_write(model)
    connection = connections[using]
    query = InsertQuery(model)
    query.insert_values(_insert_fields(model), objs)
    with connection.cursor() as cursor:
        # The generic compiler: PostgreSQL's own turns several rows into the UNNEST form.
        for sql, params in SQLInsertCompiler(query, connection, using).as_sql():
            cursor.execute(sql, params)
    for obj in objs:
        obj._state.adding, obj._state.db = False, using


def _insert_fields(model: type[Model]) -> list:
    return [f for f in model._meta.concrete_fields if not f.generated]


def update_returning(obj: Model, *, update_fields: Sequence[str], returning: BaseExpression) -> Any:
    """`obj.save(update_fields=...)` as one `UPDATE .. RETURNING <returning>`: the value of an
    expression over the updated row (its new values; OuterRef("field") in a subquery names one of
    them), read by the same statement. Raises DatabaseError if the row is gone, as save does."""
    model = type(obj)
    meta = model._meta
    using = router.db_for_write(model, instance=obj)
    query = UpdateQuery(model)
    fields = [meta.get_field(name) for name in update_fields]
    query.add_update_fields([(field, None, field.pre_save(obj, False)) for field in fields])
    query.add_filter("pk", obj.pk)
    compiler = query.get_compiler(using=using)
    sql, params = compiler.as_sql()
    returning = returning.resolve_expression(query)
    returning_sql, returning_params = compiler.compile(returning)
    with connections[using].cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {returning_sql}", (*params, *returning_params))
        rows = cursor.fetchall()
    if not rows:
        raise DatabaseError("Save with update_fields did not affect any rows.")
    converters = compiler.get_converters([returning])
    return next(iter(compiler.apply_converters(rows, converters)))[0] if converters else rows[0][0]


def expression_sql(model: type[Model], expression: BaseExpression, *, using: str) -> RawSQL:
    """`expression` over a row of `model` (OuterRef("field") in a subquery names its columns) compiled
    for the database `using`, as RawSQL to use in that model's statements. Compile it once and keep
    it (compiling a subquery costs more than running it); it must not depend on per-call values."""
    query = Query(model)
    resolved = expression.resolve_expression(query)
    sql, params = query.get_compiler(using=using).compile(resolved)
    return RawSQL(sql, tuple(params), output_field=resolved.output_field)
