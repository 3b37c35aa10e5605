"""Writes of the evidence records: status-page views, customer emails (each change told once),
dispute cases and their evidence submissions."""

import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tradeline.audit.services import activity_log
from tradeline.core.mail import send_rendered_email
from tradeline.evidence.models import CustomerEmail, DisputeCase, EmailStatus, EvidenceSubmission, StatusPageView
from tradeline.orders.models import Order
from tradeline.orders.status_link import status_url


def status_view_record(*, order_id, client_ip: str, user_agent: str, as_json: bool) -> StatusPageView:
    return StatusPageView.objects.create(order_id=order_id, client_ip=(client_ip or "")[:64],
                                         user_agent=(user_agent or "")[:512], as_json=as_json)


def seller_name(order: Order) -> str:
    """The name the customer knows: the broker's public (business) name, or ours for direct sales."""
    broker = order.broker
    return (broker.business_name or broker.name) if broker is not None else "Tradeline Marketplace"


def email_context(order: Order, extra: dict | None = None) -> dict:
    return {"order": order, "seller": seller_name(order), "status_url": status_url(order.pk),
            "support_email": settings.SUPPORT_EMAIL, "support_phone": settings.SUPPORT_PHONE, **(extra or {})}


def customer_email_send(*, order: Order, key: str, kind: str, subject: str, template: str,
                        context: dict | None = None) -> bool:
    """Send one email (`template`.txt and .html, both given the status link and support contact) to
    the order's customer, once per
    `key`: the row is claimed first (unique order + key), so a change seen twice, or two workers
    seeing it at once, still sends one email. Call with no transaction open (the claim commits,
    then the mail goes out). True when this call sent it."""
    if not order.customer_email:
        return False
    try:
        with transaction.atomic():
            row = CustomerEmail.objects.create(order=order, key=key[:80], kind=kind[:32],
                                               recipient=order.customer_email, subject=subject[:200])
    except IntegrityError:
        return False  # told already
    # SMTP trouble is logged by core.mail and recorded here, never raised into the caller's work.
    if not send_rendered_email(template=template, subject=subject, to=[order.customer_email],
                               context=email_context(order, context), about=f"order {order.pk}"):
        CustomerEmail.objects.filter(pk=row.pk).update(status=EmailStatus.FAILED)
        return False
    CustomerEmail.objects.filter(pk=row.pk).update(status=EmailStatus.SENT, sent_at=timezone.now())
    return True


def _when(value) -> datetime | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    return None


def dispute_case_opened(*, order_id, dispute: dict) -> DisputeCase:
    """The case of a `charge.dispute.created` (the same dispute again: the stored row)."""
    dispute_id = str(dispute.get("id") or "")[:64]
    details = dispute.get("evidence_details") if isinstance(dispute.get("evidence_details"), dict) else {}
    charge = dispute.get("charge")
    amount = dispute.get("amount")
    DisputeCase.objects.bulk_create([DisputeCase(
        order_id=order_id, stripe_dispute_id=dispute_id,
        charge_id=str(charge.get("id") if isinstance(charge, dict) else charge or "")[:64],
        reason=str(dispute.get("reason") or "")[:64],
        amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        currency=str(dispute.get("currency") or "")[:3], status=str(dispute.get("status") or "")[:32],
        due_by=_when(details.get("due_by")),
    )], ignore_conflicts=True)
    return DisputeCase.objects.get(stripe_dispute_id=dispute_id)


def dispute_case_sync(*, case_id, dispute: dict) -> None:
    """Stripe's view of the dispute after a read or a submission: status and evidence_details."""
    details = dispute.get("evidence_details") if isinstance(dispute.get("evidence_details"), dict) else {}
    fields = {"status": str(dispute.get("status") or "")[:32]}
    if _when(details.get("due_by")) is not None:
        fields["due_by"] = _when(details.get("due_by"))
    if isinstance(details.get("submission_count"), int):
        fields["submission_count"] = details["submission_count"]
    if isinstance(details.get("has_evidence"), bool):
        fields["has_evidence"] = details["has_evidence"]
    DisputeCase.objects.filter(pk=case_id).update(**fields, updated_at=timezone.now())


def evidence_submission_record(*, case: DisputeCase, submit: bool, evidence: dict, idempotency_key: str,
                               admin, dispute: dict) -> EvidenceSubmission:
    """Keep what was sent and Stripe's answer; a final submission marks the case submitted (once)."""
    details = dispute.get("evidence_details") if isinstance(dispute.get("evidence_details"), dict) else {}
    with transaction.atomic():
        row = EvidenceSubmission.objects.create(
            case=case, submit=submit, evidence=evidence, idempotency_key=idempotency_key[:120], admin=admin,
            stripe_status=str(dispute.get("status") or "")[:32],
            submission_count=details.get("submission_count") if isinstance(details.get("submission_count"), int)
            else 0)
        dispute_case_sync(case_id=case.pk, dispute=dispute)
        if submit:
            DisputeCase.objects.filter(pk=case.pk, submitted_at__isnull=True).update(
                submitted_at=timezone.now(), submitted_by=admin)
    return row


def status_link_send(*, order: Order, admin=None) -> bool:
    """Send the customer their status link again (an admin's resend: every request sends one)."""
    sent = customer_email_send(
        order=order, key=f"status-link:{uuid.uuid4().hex}", kind="status_link",
        subject=f"Your order {order.order_number}: follow it here", template="evidence/email/order_update",
        context={"headline": "Here is the link to follow your order.", "lines": []})
    activity_log(action="order.status_link_sent", entity=order, broker_id=order.broker_id, actor_user=admin,
                 metadata={"order_number": order.order_number, "sent": sent})
    return sent
