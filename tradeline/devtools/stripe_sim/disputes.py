"""Dispute evidence at the local Stripe server, as Stripe keeps it.

POST /v1/disputes/{id} with `evidence[<field>]` (text fields only here; file fields take a File id)
and `submit` (Stripe's default: true). Evidence is merged into the dispute's `evidence` object;
`evidence_details.has_evidence` turns true once any evidence is stored, `submission_count` counts
submissions and the status moves needs_response -> under_review (warning_needs_response ->
warning_under_review). Refused, as Stripe does: after `evidence_details.due_by` (past_due), once
submitted (the dispute is under review or closed), an unknown evidence field, a text over 20,000
characters or 150,000 characters in all.
"""

from tradeline.devtools.stripe_sim import objects as o
from tradeline.devtools.stripe_sim.errors import SimError

TEXT_FIELDS = (
    "access_activity_log", "billing_address", "cancellation_policy_disclosure", "cancellation_rebuttal",
    "customer_email_address", "customer_name", "customer_purchase_ip", "duplicate_charge_explanation",
    "duplicate_charge_id", "product_description", "refund_policy_disclosure", "refund_refusal_explanation",
    "service_date", "shipping_address", "shipping_carrier", "shipping_date", "shipping_tracking_number",
    "uncategorized_text",
)
FILE_FIELDS = (
    "cancellation_policy", "customer_communication", "customer_signature", "duplicate_charge_documentation",
    "receipt", "refund_policy", "service_documentation", "shipping_documentation", "uncategorized_file",
)
TEXT_MAX, TOTAL_MAX = 20_000, 150_000
UNDER_REVIEW = {"needs_response": "under_review", "warning_needs_response": "warning_under_review"}


def _submit_flag(value) -> bool:
    if value in (None, ""):
        return True
    if value in (True, "true"):
        return True
    if value in (False, "false"):
        return False
    raise SimError(400, "Invalid boolean: submit", code="parameter_invalid_boolean", param="submit")


def update_dispute(state, dispute_id: str, params: dict) -> tuple[dict, list[dict]]:
    evidence = params.get("evidence")
    if evidence not in (None, "") and not isinstance(evidence, dict):
        raise SimError(400, "Invalid object", param="evidence")
    evidence = evidence or {}
    for name, value in evidence.items():
        if name not in TEXT_FIELDS + FILE_FIELDS:
            raise SimError(400, f"Received unknown parameter: evidence[{name}]", param=f"evidence[{name}]")
        if not isinstance(value, str):
            raise SimError(400, f"Invalid string: evidence[{name}]", param=f"evidence[{name}]")
        if name in TEXT_FIELDS and len(value) > TEXT_MAX:
            raise SimError(400, f"evidence[{name}] is longer than {TEXT_MAX} characters.",
                           code="string_length_exceeds_maximum", param=f"evidence[{name}]")
    submit = _submit_flag(params.get("submit"))
    metadata = o.parse_metadata(params.get("metadata"), "metadata") if params.get("metadata") else None
    with state.lock:
        dispute = state.dispute(dispute_id)
        details = dispute["evidence_details"]
        if dispute["status"] not in UNDER_REVIEW:
            raise SimError(400, f"This dispute is {dispute['status']} and its evidence can no longer be "
                           "updated.", code="dispute_already_submitted" if "review" in dispute["status"]
                           else "charge_dispute_closed", param="evidence")
        if details["due_by"] is not None and o.now() > details["due_by"]:
            details["past_due"] = True
            raise SimError(400, "The deadline to respond to this dispute has passed.", code="dispute_past_due",
                           param="evidence")
        merged = {**dispute["evidence"], **{k: (v or None) for k, v in evidence.items()}}
        if sum(len(merged[k] or "") for k in TEXT_FIELDS) > TOTAL_MAX:
            raise SimError(400, f"The evidence is longer than {TOTAL_MAX} characters in all.",
                           code="string_length_exceeds_maximum", param="evidence")
        dispute["evidence"] = merged
        details["has_evidence"] = any(merged.get(name) for name in TEXT_FIELDS + FILE_FIELDS)
        if metadata is not None:
            dispute["metadata"] = {**dispute["metadata"], **metadata}
        if submit:
            details["submission_count"] += 1
            details["submission_method"] = "manual"
            dispute["status"] = UNDER_REVIEW[dispute["status"]]
        return dispute, [state._event("charge.dispute.updated", dispute)]


def set_due_by(state, dispute_id: str, due_by: int) -> dict:
    """Test control: move the evidence deadline (for example into the past)."""
    with state.lock:
        dispute = state.dispute(dispute_id)
        dispute["evidence_details"]["due_by"] = due_by
        dispute["evidence_details"]["past_due"] = o.now() > due_by
        return dispute
