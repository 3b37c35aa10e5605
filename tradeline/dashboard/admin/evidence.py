"""The evidence side of the admin order page: the customer's status link (and resending it), the
agreement acceptance, and the dispute evidence with its one-click sending to Stripe."""

from tradeline.agreements.selectors import acceptance_for, acceptance_out
from tradeline.chargebacks.services import dispute_evidence_draft, dispute_evidence_send
from tradeline.dashboard.admin_base import run_service
from tradeline.evidence.selectors import customer_emails_of, dispute_case_of, status_views_of
from tradeline.evidence.services import status_link_send
from tradeline.orders.status_link import status_url

EVIDENCE_ACTIONS = ("resend-status-link", "dispute-evidence-save", "dispute-evidence-submit")


def evidence_context(order) -> dict:
    case = dispute_case_of(order_id=order.pk)
    return {
        "agreement": acceptance_out(acceptance_for(order_id=order.pk)),
        "status_url": status_url(order.pk),
        "status_views": status_views_of(order_id=order.pk),
        "customer_emails": customer_emails_of(order_id=order.pk),
        "dispute_case": case,
        "dispute_draft": dispute_evidence_draft(order=order)["evidence"] if case is not None else None,
    }


def evidence_action(request, order, action: str) -> None:
    """Run one of EVIDENCE_ACTIONS (the caller redirects back to the order page)."""
    if action == "resend-status-link":
        run_service(request, lambda: status_link_send(order=order, admin=request.user),
                    lambda sent: f"Status link sent to {order.customer_email}." if sent
                    else "The email could not be sent; see the log.")
    elif action in ("dispute-evidence-save", "dispute-evidence-submit"):
        submit = action == "dispute-evidence-submit"
        run_service(request, lambda: dispute_evidence_send(order=order, submit=submit, admin=request.user),
                    lambda out: "Evidence submitted to Stripe for review." if submit
                    else f"Evidence saved at Stripe as a draft ({len(out['evidence'])} fields).")
