"""Chargeback evidence: assembled from our own records when a dispute is open, sent to Stripe
(`POST /v1/disputes/{id}` with `evidence[...]` and `submit`) by an admin.

The draft is built on each request from what we keep: the agreement acceptance (version, text
hash, time, IP, browser, Stripe's consent), the customer's email and name, the tradelines sold,
the supplier order with its posting history, the status-page views and the emails sent.

Sending is idempotent: the Stripe idempotency key is derived from the dispute, the mode (save or
submit) and the evidence text, and our log row is unique on that key, so a repeated request (or
two at once) reaches Stripe once and is logged once. Refused once the evidence was submitted, and
after Stripe's `evidence_details.due_by`. Stripe is called with no transaction open.
"""

import hashlib
import json

from django.db import IntegrityError
from django.utils import timezone

from tradeline.agreements.selectors import acceptance_for
from tradeline.audit.services import activity_log
from tradeline.core.errors import Conflict
from tradeline.core.money import format_usd
from tradeline.evidence.models import DisputeCase, EvidenceSubmission
from tradeline.evidence.selectors import customer_emails_of, dispute_case_of, status_views_of
from tradeline.evidence.services import evidence_submission_record
from tradeline.fulfillment.models import SupplierOrder
from tradeline.fulfillment.tracking_selectors import posting_history
from tradeline.orders.models import Order
from tradeline.orders.status_link import status_url
from tradeline.payments import stripe_gateway

TEXT_MAX = 20_000


def _clip(text: str) -> str:
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 20] + "\n[... truncated]"


def _records(order: Order) -> dict:
    acceptance = acceptance_for(order_id=order.pk)
    supplier = SupplierOrder.objects.filter(order=order).first()
    history = posting_history(order_id=order.pk)
    return {
        "acceptance": None if acceptance is None else {
            "version": acceptance.version, "text_sha256": acceptance.text_sha256,
            "accepted_at": acceptance.accepted_at.isoformat(), "client_ip": acceptance.client_ip,
            "user_agent": acceptance.user_agent, "email": acceptance.email,
            "accepted_by_admin": acceptance.accepted_by.get_username() if acceptance.accepted_by_id else None,
            "stripe_consent": acceptance.stripe_consent or None,
        },
        "customer": {"email": order.customer_email, "name": order.customer_name, "phone": order.customer_phone},
        "items": [{"bank_name": i.bank_name, "credit_limit": i.credit_limit, "date_opened": i.date_opened,
                   "reporting_period": i.reporting_period, "purchase_deadline": i.purchase_deadline,
                   "quantity": i.quantity, "total": i.total_customer_price}
                  for i in order.items.all().order_by("created_at", "card_id")],
        "supplier_order": None if supplier is None else {
            "supplier_order_id": supplier.supplier_order_id, "status": supplier.supplier_status,
            "placed_at": supplier.placed_at.isoformat() if supplier.placed_at else None},
        "posting_history": [{"status": e.supplier_status, "stage": e.stage, "at": e.occurred_at.isoformat(),
                             "note": e.note} for e in history],
        "status_page_views": status_views_of(order_id=order.pk),
        "emails": customer_emails_of(order_id=order.pk),
    }


def _evidence_text(order: Order, records: dict) -> dict[str, str]:
    """Stripe's text evidence fields from the records (empty fields left out)."""
    acc = records["acceptance"]
    items = "\n".join(
        f"- {i['quantity']} x authorized-user tradeline on a {i['bank_name']} card, credit limit "
        f"{format_usd(i['credit_limit'])}, opened {i['date_opened'] or 'n/a'}, reporting period "
        f"{i['reporting_period'] or 'n/a'}: {format_usd(i['total'])}" for i in records["items"])
    fields = {
        "customer_name": order.customer_name,
        "customer_email_address": order.customer_email,
        "product_description": (
            f"Order {order.order_number}: authorized-user tradelines (a digital service). The supplier adds the "
            f"customer as an authorized user on an existing credit card, which then reports to the credit bureaus "
            f"at its statement date.\n{items}\nTotal charged: {format_usd(order.total_charged)}."),
    }
    if acc:
        fields["customer_purchase_ip"] = acc["client_ip"]
        fields["refund_policy_disclosure"] = (
            f"Before paying, the customer ticked an unticked box accepting the Tradeline User Agreement version "
            f"{acc['version']} (SHA-256 of the exact text {acc['text_sha256']}) at {acc['accepted_at']} UTC from IP "
            f"{acc['client_ip'] or 'n/a'} with the browser \"{acc['user_agent'] or 'n/a'}\"; email {acc['email']}."
            + (f" Stripe Checkout's terms-of-service consent: {acc['stripe_consent']}." if acc["stripe_consent"]
               else "")
            + (f" Accepted on the customer's behalf by our staff member {acc['accepted_by_admin']} (direct sale)."
               if acc["accepted_by_admin"] else "")
            + " Section 5 of the agreement: cancellations are refunded until the supplier has added the customer "
              "as an authorized user; a tradeline that has reported is delivered and not refundable.")
    posted = [e for e in records["posting_history"] if e["stage"] in ("REPORTING", "COMPLETED")]
    started = [e for e in records["posting_history"] if e["stage"] == "AUTHORIZED_USER"]
    supplier = records["supplier_order"]
    service_day = (posted or started or [{"at": supplier["placed_at"]} if supplier and supplier["placed_at"]
                                         else {"at": None}])[0]["at"]
    if service_day:
        fields["service_date"] = service_day[:10]
    if posted:
        fields["refund_refusal_explanation"] = (
            f"The service was delivered: the tradeline reported (posted) on {posted[0]['at'][:10]} according to "
            f"the supplier's records (supplier order {supplier['supplier_order_id'] if supplier else 'n/a'}). "
            f"Per the agreement the customer accepted, a delivered tradeline is not refundable.")
    if records["status_page_views"]:
        fields["access_activity_log"] = "The customer viewed the order's private status page:\n" + "\n".join(
            f"{v['viewed_at']} IP {v['client_ip']} {v['user_agent']}" for v in records["status_page_views"])
    lines = [f"Order {order.order_number}, status page {status_url(order.pk)}"]
    if supplier:
        lines.append(f"Supplier order {supplier['supplier_order_id']} placed {supplier['placed_at'] or 'n/a'}.")
    lines += [f"Supplier status {e['status']} ({e['stage'] or '-'}) at {e['at']}" + (f": {e['note']}" if e["note"]
              else "") for e in records["posting_history"]]
    lines += [f"Email '{m['subject']}' to {m['recipient']}: {m['status'].lower()} {m['sent_at'] or ''}".rstrip()
              for m in records["emails"]]
    fields["uncategorized_text"] = "\n".join(lines)
    return {name: _clip(value) for name, value in fields.items() if value}


def _case_out(case: DisputeCase) -> dict:
    return {"id": case.stripe_dispute_id, "reason": case.reason, "amount": case.amount, "status": case.status,
            "due_by": case.due_by.isoformat() if case.due_by else None, "submission_count": case.submission_count,
            "has_evidence": case.has_evidence, "submitted_at": case.submitted_at.isoformat() if case.submitted_at
            else None}


def dispute_evidence_draft(*, order: Order) -> dict:
    """The draft for the order's dispute (`dispute` null when none is open: the same records, ready)."""
    case = dispute_case_of(order_id=order.pk)
    records = _records(order)
    return {"order_number": order.order_number, "dispute": _case_out(case) if case else None,
            "evidence": _evidence_text(order, records), "records": records}


def dispute_evidence_send(*, order: Order, submit: bool, admin) -> dict:
    """Send the draft to Stripe: saved (submit=False) or submitted for review (submit=True).
    409 NO_DISPUTE without one; EVIDENCE_ALREADY_SUBMITTED once submitted; EVIDENCE_PAST_DUE after due_by."""
    case = dispute_case_of(order_id=order.pk)
    if case is None:
        raise Conflict("This order has no dispute to answer.", code="NO_DISPUTE")
    if case.submitted_at is not None:
        raise Conflict("The evidence for this dispute was already submitted.", code="EVIDENCE_ALREADY_SUBMITTED",
                       details={"submitted_at": case.submitted_at.isoformat()})
    if case.due_by is not None and timezone.now() > case.due_by:
        raise Conflict("The deadline to respond to this dispute has passed.", code="EVIDENCE_PAST_DUE",
                       details={"due_by": case.due_by.isoformat()})
    evidence = _evidence_text(order, _records(order))
    digest = hashlib.sha256(json.dumps(evidence, sort_keys=True).encode("utf-8")).hexdigest()[:24]
    key = f"dispute-evidence-{case.stripe_dispute_id}-{'submit' if submit else 'save'}-{digest}"
    dispute = stripe_gateway.update_dispute(case.stripe_dispute_id, evidence=evidence, submit=submit,
                                            idempotency_key=key)
    try:
        row = evidence_submission_record(case=case, submit=submit, evidence=evidence, idempotency_key=key,
                                         admin=admin, dispute=dispute)
        activity_log(action="order.dispute_evidence_submitted" if submit else "order.dispute_evidence_saved",
                     entity=order, broker_id=order.broker_id, actor_user=admin,
                     metadata={"order_number": order.order_number, "dispute": case.stripe_dispute_id,
                               "fields": sorted(evidence), "submission_count": row.submission_count})
    except IntegrityError:
        pass  # the same sending, already logged (a repeat, or a concurrent twin)
    case.refresh_from_db()
    return {"dispute": _case_out(case), "submitted": submit, "evidence": evidence,
            "sendings": EvidenceSubmission.objects.filter(case=case).count()}
