"""Reads of a supplier order's posting history (the status page and the dispute evidence)."""

from tradeline.fulfillment.models import SupplierOrder, SupplierStatusEvent
from tradeline.fulfillment.posting import PROGRESS, PostingStage


def posting_history(*, order_id) -> list[SupplierStatusEvent]:
    return list(SupplierStatusEvent.objects.filter(supplier_order__order_id=order_id)
                .order_by("occurred_at", "created_at"))


def current_stage(*, supplier_order: SupplierOrder | None, history: list[SupplierStatusEvent]) -> str | None:
    """The stage the supplier last reported (a problem stage wins over progress); PLACED once the
    supplier accepted the order and nothing later is known; None before that."""
    stages = [event.stage for event in history if event.stage]
    problems = [stage for stage in stages if stage not in PROGRESS]
    if problems:
        return problems[-1]
    if stages:
        return max(stages, key=PROGRESS.index)
    if supplier_order is not None and supplier_order.supplier_order_id:
        return PostingStage.PLACED
    return None
