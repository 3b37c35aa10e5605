"""Reads of the payments app (for the dashboard and operators)."""

from django.db.models import Count, F, QuerySet

from tradeline.orders.models import PAID_PAYMENT_STATES, Order
from tradeline.payments.models import Payment, PaymentRole, WebhookEvent


def excess_payments_unrefunded(*, order: Order | None = None) -> QuerySet[Payment]:
    """EXCESS payments (money beyond an order's paying payment) not fully given back yet: each needs
    attention until its refund succeeds (docs/domain.md "Excess payments"). Oldest first."""
    payments = Payment.objects.filter(role=PaymentRole.EXCESS, status__in=PAID_PAYMENT_STATES,
                                      amount_refunded__lt=F("amount"))
    if order is not None:
        payments = payments.filter(order=order)
    return payments.order_by("paid_at", "pk")


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
    rows = WebhookEvent.objects.values("status").annotate(n=Count("id")).order_by()
    counts = {status: 0 for status in WebhookEvent.Status.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts
