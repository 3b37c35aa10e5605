"""A paginator for lists too long to count on every page view (the admin's change lists).

Counting a million rows costs a scan on every request just to print "1,000,000 orders" and the
number of the last page. Up to EXACT_COUNT_LIMIT matching rows the count is exact (a count over a
LIMITed sub-select stops there); beyond it, on PostgreSQL, the planner's estimate of the row count
(`QuerySet.explain`) is shown instead. Other databases count exactly.
"""

import json

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

EXACT_COUNT_LIMIT = 10_000


def estimated_count(queryset) -> int | None:
    """The planner's estimate of the rows `queryset` returns (PostgreSQL), else None."""
    if connections[queryset.db].vendor != "postgresql":
        return None
    plan = json.loads(queryset.explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Exact counts up to EXACT_COUNT_LIMIT, the planner's estimate beyond (never less than the limit)."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        capped = queryset[:EXACT_COUNT_LIMIT + 1].count()
        if capped <= EXACT_COUNT_LIMIT:
            return capped
        estimate = estimated_count(queryset)
        if estimate is None:
            return queryset.count()
        return max(estimate, capped)
