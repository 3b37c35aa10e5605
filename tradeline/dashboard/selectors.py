"""Reads that only the admin pages need (event history of an order, commission and refunds)."""

from django.db.models import Q

from tradeline.audit.models import ActivityLog
from tradeline.orders.models import Order
from tradeline.payments.models import Refund, WebhookEvent
from tradeline.payouts.models import CommissionAdjustment, CommissionRecord

HISTORY_LIMIT = 200


def order_history(*, order: Order) -> list[dict]:
    """Activity log entries and webhook events of one order, oldest first.

    Rows: {"at", "source" ("activity" | "webhook"), "action", "actor", "status", "detail"}.
    """
    refund_ids = [str(pk) for pk in Refund.objects.filter(order=order).values_list("pk", flat=True)]
    commission_ids = [str(pk) for pk in CommissionRecord.objects.filter(order=order).values_list("pk", flat=True)]
    logs = (
        ActivityLog.objects.filter(
            Q(entity_type="Order", entity_id=str(order.pk))
            | Q(entity_type="Refund", entity_id__in=refund_ids)
            | Q(entity_type="CommissionRecord", entity_id__in=commission_ids)
        )
        .select_related("actor_user")
        .order_by("created_at")[:HISTORY_LIMIT]
    )
    rows = [
        {
            "at": log.created_at,
            "source": "activity",
            "action": log.action,
            "actor": log.actor_user.get_username() if log.actor_user else log.actor_type.lower(),
            "status": "",
            "detail": _short(log.metadata),
        }
        for log in logs
    ]
    events = WebhookEvent.objects.filter(order=order).order_by("created_at").only(
        "created_at", "event_type", "event_id", "status", "error", "attempts")[:HISTORY_LIMIT]
    rows += [
        {
            "at": event.created_at,
            "source": "webhook",
            "action": event.event_type,
            "actor": "stripe",
            "status": event.status,
            "detail": f"{event.event_id}" + (f" — {event.error[:200]}" if event.error else "")
            + (f" ({event.attempts} attempts)" if event.attempts > 1 else ""),
        }
        for event in events
    ]
    rows.sort(key=lambda row: row["at"])
    return rows


def _short(metadata) -> str:
    if not isinstance(metadata, dict):
        return ""
    parts = []
    for key, value in metadata.items():
        if key in ("order_number",) or value in ("", None, [], {}):
            continue
        parts.append(f"{key}={value}")
    return ", ".join(parts)[:300]


def order_money_records(*, order: Order) -> dict:
    """The order's refunds, commission record and commission adjustments."""
    return {
        "refunds": list(Refund.objects.filter(order=order).select_related("requested_by").order_by("created_at")),
        "commission": CommissionRecord.objects.filter(order=order).select_related("payout").first(),
        "adjustments": list(CommissionAdjustment.objects.filter(order=order).order_by("created_at")),
    }
