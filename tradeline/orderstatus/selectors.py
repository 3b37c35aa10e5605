"""The customer's view of one order: what the status page shows and `?format=json` returns.
Customer-facing facts only: no broker earnings, no base prices, no internal ids beyond the order's."""

from datetime import date, datetime

from django.conf import settings

from tradeline.core.money import cents_to_usd, format_usd
from tradeline.evidence.services import seller_name
from tradeline.fulfillment.models import SupplierOrder
from tradeline.fulfillment.posting import PostingStage, expected_dates
from tradeline.fulfillment.tracking_selectors import current_stage, posting_history
from tradeline.orders.models import Order, OrderStatus

# What the customer reads for each state, in order of the journey.
STAGE_TEXT = {
    "AWAITING_PAYMENT": "Waiting for your payment",
    "PAID": "Paid: ordering your tradelines",
    PostingStage.PLACED: "Placed with the card holder",
    PostingStage.AUTHORIZED_USER: "You were added as an authorized user",
    PostingStage.REPORTING: "Reporting: the tradeline has posted",
    PostingStage.COMPLETED: "Completed",
    PostingStage.CANCELLED: "Cancelled by the supplier: our team is on it",
    PostingStage.REFUNDED: "Refunded by the supplier: our team is on it",
    PostingStage.FAILED: "Could not be placed: our team is on it",
    "CANCELLED": "Cancelled",
    "REFUNDED": "Refunded",
}
STEPS = ("PAID", PostingStage.PLACED, PostingStage.AUTHORIZED_USER, PostingStage.REPORTING, PostingStage.COMPLETED)


def _iso(value) -> str | None:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return None


def _order_stage(order: Order, supplier: SupplierOrder | None, history) -> str:
    if order.status == OrderStatus.CANCELLED:
        return "CANCELLED"
    if order.status == OrderStatus.PENDING:
        return "AWAITING_PAYMENT"
    if order.status == OrderStatus.REFUNDED:
        return "REFUNDED"
    return current_stage(supplier_order=supplier, history=history) or "PAID"


def _age(opened: str, today: date) -> str:
    try:
        year, month = int(opened[:4]), int(opened[5:7])
    except (TypeError, ValueError):
        return ""
    months = (today.year - year) * 12 + today.month - month
    if months < 0:
        return ""
    return f"{months // 12} yr {months % 12} mo" if months >= 12 else f"{months} mo"


def order_status_view(*, order: Order, today: date) -> dict:
    supplier = SupplierOrder.objects.filter(order=order).first()
    history = posting_history(order_id=order.pk)
    stage = _order_stage(order, supplier, history)
    ordered_at = supplier.placed_at if supplier and supplier.placed_at else order.paid_at
    items = []
    for item in order.items.all().order_by("created_at", "card_id"):
        expected = expected_dates(purchase_deadline=item.purchase_deadline, reporting_period=item.reporting_period,
                                  ordered_at=ordered_at) if order.paid_at else None
        items.append({
            "bank_name": item.bank_name, "credit_limit": item.credit_limit,
            "credit_limit_usd": cents_to_usd(item.credit_limit), "credit_limit_display": format_usd(item.credit_limit),
            "date_opened": item.date_opened, "age": _age(item.date_opened, today), "quantity": item.quantity,
            "reporting_period": item.reporting_period, "stage": stage, "stage_text": STAGE_TEXT.get(stage, stage),
            "expected": {
                "authorized_user_by": _iso(expected.authorized_user_by) if expected else None,
                "reports_from": _iso(expected.reports_from) if expected else None,
                "reports_to": _iso(expected.reports_to) if expected else None,
            },
        })
    refunds = [{"amount": r.amount, "amount_usd": cents_to_usd(r.amount), "status": r.status,
                "created_at": _iso(r.created_at)} for r in order.refunds.order_by("created_at")]
    timeline = [{"at": _iso(order.created_at), "event": "Order created"}]
    if order.paid_at:
        timeline.append({"at": _iso(order.paid_at), "event": f"Payment received ({format_usd(order.amount_paid)})"})
    if supplier is not None and supplier.placed_at:
        timeline.append({"at": _iso(supplier.placed_at), "event": STAGE_TEXT[PostingStage.PLACED]})
    for event in history:
        if event.stage and event.stage != PostingStage.PLACED:
            timeline.append({"at": _iso(event.occurred_at), "event": STAGE_TEXT.get(event.stage, event.stage),
                             **({"note": event.note} if event.note else {})})
    for refund in refunds:
        timeline.append({"at": refund["created_at"], "event": f"Refund of ${refund['amount_usd']} ({refund['status'].lower()})"})
    if order.cancelled_at:
        timeline.append({"at": _iso(order.cancelled_at), "event": "Order cancelled"})
    timeline.sort(key=lambda row: row["at"] or "")
    reached = STEPS.index(stage) if stage in STEPS else -1
    return {
        "order_number": order.order_number,
        "seller": seller_name(order),
        "created_at": _iso(order.created_at),
        "stage": stage,
        "stage_text": STAGE_TEXT.get(stage, stage),
        "steps": [{"stage": step, "text": STAGE_TEXT[step], "done": index <= reached}
                  for index, step in enumerate(STEPS)],
        "payment": {"status": order.payment_status, "total": order.total_charged,
                    "total_usd": cents_to_usd(order.total_charged), "paid": order.amount_paid,
                    "paid_usd": cents_to_usd(order.amount_paid), "refunded": order.amount_refunded,
                    "refunded_usd": cents_to_usd(order.amount_refunded), "paid_at": _iso(order.paid_at)},
        "tradelines": items,
        "refunds": refunds,
        "timeline": timeline,
        "support": {"email": settings.SUPPORT_EMAIL, "phone": settings.SUPPORT_PHONE or None},
    }
