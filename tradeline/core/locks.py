"""Row-lock helpers. Lock order, always: Order -> Payment/Refund -> Commission -> Adjustment -> Payout.

Call these inside `transaction.atomic()`; on SQLite `select_for_update` is a no-op and the
database-level write lock (BEGIN IMMEDIATE) serialises writers instead.
"""

from collections.abc import Iterable
from typing import TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


def lock_one(model: type[M], **lookup) -> M:
    """Lock and return one row (raises model.DoesNotExist)."""
    return model.objects.select_for_update().get(**lookup)


def lock_many(model: type[M], pks: Iterable) -> list[M]:
    """Lock rows in primary-key order, so two transactions never wait on each other in a cycle."""
    return list(model.objects.select_for_update().filter(pk__in=list(pks)).order_by("pk"))
