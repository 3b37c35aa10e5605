"""Row locks. Each model of the money path has one locker, taken in one order (docs/domain.md
"Lock order"): Order (`Order.objects.locked`) -> its Payments (`payments.services.common`) or
its SupplierOrder (`SupplierOrder.objects.locked_of_order`) -> Commission
(`CommissionRecord.objects.locked_of_order`) -> Payout. A transaction that needs several takes
them in that order, so two never wait on each other in a cycle.

`lock_one` is for rows outside that path (a broker account). Call inside `transaction.atomic()`;
on SQLite `select_for_update` is a no-op and the database-level write lock (BEGIN IMMEDIATE)
serialises writers instead.
"""

from typing import TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


def lock_one(model: type[M], **lookup) -> M:
    """Lock and return one row (raises model.DoesNotExist)."""
    return model.objects.select_for_update().get(**lookup)
