"""Reads of the evidence records."""

from tradeline.evidence.models import CustomerEmail, DisputeCase, StatusPageView


def status_views_of(*, order_id) -> list[dict]:
    return [{"viewed_at": row.viewed_at.isoformat(), "client_ip": row.client_ip, "user_agent": row.user_agent,
             "format": "json" if row.as_json else "html"}
            for row in StatusPageView.objects.filter(order_id=order_id).order_by("viewed_at")]


def customer_emails_of(*, order_id) -> list[dict]:
    return [{"kind": row.kind, "subject": row.subject, "recipient": row.recipient, "status": row.status,
             "sent_at": row.sent_at.isoformat() if row.sent_at else None}
            for row in CustomerEmail.objects.filter(order_id=order_id).order_by("created_at")]


def dispute_case_of(*, order_id) -> DisputeCase | None:
    """The order's latest dispute (Stripe allows one per charge)."""
    return DisputeCase.objects.filter(order_id=order_id).order_by("-created_at").first()
