"""Reads of the payments app (for the dashboard and operators)."""

from django.db.models import QuerySet

from tradeline.core.money import cents_to_usd
from tradeline.orders.models import Order
from tradeline.payments.models import Refund, WebhookEvent


def order_refunds(*, order: Order) -> list[dict]:
    """The admin refunds of an order, newest first (refunds made in Stripe's dashboard show only in
    the order's cumulative `amount_refunded`)."""
    return [
        {"id": str(r.pk), "amount": r.amount, "amount_usd": cents_to_usd(r.amount), "status": r.status,
         "reason": r.reason, "stripe_refund_id": r.stripe_refund_id,
         "requested_by": r.requested_by.email if r.requested_by else None, "created_at": r.created_at.isoformat()}
        for r in Refund.objects.filter(order=order).select_related("requested_by").order_by("-created_at")
    ]


def webhook_events(*, status: str | None = None, order: Order | None = None, limit: int = 50) -> QuerySet:
    """Recorded webhook events, newest first, optionally of one status (e.g. NEEDS_REVIEW, FAILED) or order."""
    events = WebhookEvent.objects.defer("payload").order_by("-created_at")
    if status:
        events = events.filter(status=status)
    if order is not None:
        events = events.filter(order=order)
    return events[: max(1, min(limit, 500))]


def webhook_event_counts() -> dict[str, int]:
    """How many events are in each status (the ones needing attention: NEEDS_REVIEW, FAILED, DEFERRED)."""
    from django.db.models import Count

    rows = WebhookEvent.objects.values("status").annotate(n=Count("id")).order_by()
    counts = {status: 0 for status in WebhookEvent.Status.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts
