"""What happens after a payment, and payment links: refunds, disputes, links (mixed into SimState).

Same rules as state.py: each operation runs under the state's lock and returns (object, events).
"""

from tradeline.devtools.stripe_sim import objects as o, shapes
from tradeline.devtools.stripe_sim.errors import SimError

# Dispute statuses of the pinned API version. An inquiry (warning_*) closes as warning_closed or
# prevented; a chargeback as won, lost or prevented.
OPEN_DISPUTE = {"needs_response", "under_review", "warning_needs_response", "warning_under_review"}
DISPUTE_OPENINGS = ("needs_response", "warning_needs_response")
DISPUTE_OUTCOMES = {"won", "lost", "warning_closed", "prevented"}
_CLOSES_AS = {"needs_response": {"won", "lost", "prevented"}, "under_review": {"won", "lost", "prevented"},
              "warning_needs_response": {"warning_closed", "prevented"},
              "warning_under_review": {"warning_closed", "prevented"}}




# `POST /v1/payment_links/{id}` parameters of the pinned SDK (stripe/params/_payment_link_update_params.py).
_LINK_UPDATE_PARAMS = frozenset({
    "active", "after_completion", "allow_promotion_codes", "application_fee_amount", "application_fee_percent",
    "automatic_tax", "billing_address_collection", "consent_collection", "custom_fields", "custom_text",
    "customer_creation", "expand", "inactive_message", "invoice_creation", "line_items", "metadata",
    "name_collection", "on_behalf_of", "optional_items", "payment_intent_data", "payment_method_collection",
    "payment_method_options", "payment_method_types", "phone_number_collection", "restrictions",
    "shipping_address_collection", "shipping_options", "submit_type", "subscription_data", "tax_id_collection",
    "transfer_data"})


class AfterPaymentMixin:
    # ---- payment links ---------------------------------------------------------------------

    def create_payment_link(self, params: dict, base_url: str) -> dict:
        items = o.parse_line_items(params.get("line_items"))
        metadata = o.parse_metadata(params.get("metadata"), "metadata")
        pi_data = params.get("payment_intent_data") or {}
        if not isinstance(pi_data, dict):
            raise SimError(400, "Invalid object", param="payment_intent_data")
        pi_metadata = o.parse_metadata(pi_data.get("metadata"), "payment_intent_data[metadata]")
        restrictions = params.get("restrictions") or {}
        limit = None
        if isinstance(restrictions, dict) and isinstance(restrictions.get("completed_sessions"), dict):
            limit = o.parse_int(restrictions["completed_sessions"].get("limit"),
                                "restrictions[completed_sessions][limit]", minimum=1, maximum=10_000)
        after = params.get("after_completion") or {}
        redirect_url = None
        if isinstance(after, dict) and after.get("type") == "redirect":
            redirect_url = o.parse_url((after.get("redirect") or {}).get("url"), "after_completion[redirect][url]")
        with self.lock:
            link_id = o.new_id("plink_")
            link = {
                "id": link_id,
                "object": "payment_link",
                "active": True,
                "after_completion": {"type": "redirect", "redirect": {"url": redirect_url}} if redirect_url
                else {"type": "hosted_confirmation", "hosted_confirmation": {"custom_message": None}},
                "currency": items[0]["currency"],
                "livemode": False,
                "metadata": metadata,
                "payment_intent_data": {"description": pi_data.get("description"), "metadata": pi_metadata},
                "restrictions": {"completed_sessions": {"count": 0, "limit": limit}} if limit else None,
                "url": f"{base_url}/pay/{link_id}",
            }
            link = shapes.complete("payment_link", link)
            self.payment_links[link_id] = link
            self.link_items[link_id] = items
            return link

    def update_payment_link(self, link_id: str, params: dict) -> dict:
        """`POST /v1/payment_links/{id}`: `active` (false: nobody can open the link any more; a session
        already opened from it stays payable until it expires) and `metadata`. A parameter the pinned
        SDK does not define is refused as Stripe refuses it; one it defines but this server does not
        model is refused as unsupported rather than silently ignored."""
        unknown = sorted(set(params) - _LINK_UPDATE_PARAMS)
        if unknown:
            raise SimError(400, f"Received unknown parameter: {unknown[0]}", code="parameter_unknown", param=unknown[0])
        unsupported = sorted(set(params) - {"active", "metadata", "expand"})
        if unsupported:
            raise SimError(400, f"The local Stripe server does not model updating {unsupported[0]}.",
                           param=unsupported[0])
        with self.lock:
            link = self.payment_link(link_id)
            if "active" in params:
                active = params["active"]
                if active not in ("true", "false", True, False):
                    raise SimError(400, f"Invalid boolean: {active}", code="parameter_invalid_boolean",
                                   param="active")
                link["active"] = active in ("true", True)
            if "metadata" in params:
                link["metadata"].update(o.parse_metadata(params["metadata"], "metadata"))
            return link

    def open_payment_link(self, link_id: str, base_url: str) -> dict:
        """What happens when a customer opens a payment link: a new Checkout Session for it."""
        with self.lock:
            link = self.payment_link(link_id)
            if not link["active"]:
                raise SimError(400, "This payment link is no longer active.", code="payment_link_inactive",
                               param="payment_link")
            items = self.link_items[link_id]
            redirect = (link["after_completion"].get("redirect") or {}).get("url")
            params = {
                "mode": "payment",
                "line_items": [{"quantity": str(i["quantity"]),
                                "price_data": {"currency": i["currency"], "unit_amount": str(i["unit_amount"]),
                                               "product_data": {"name": i["name"], "description": i["description"],
                                                                "metadata": i["product_metadata"]}}}
                               for i in items],
                "metadata": dict(link["metadata"]),
                "payment_intent_data": {"metadata": dict(link["payment_intent_data"]["metadata"]),
                                        "description": link["payment_intent_data"]["description"]},
                "success_url": redirect,
            }
            return self.create_session(params, base_url, payment_link=link_id)

    # ---- refunds and disputes --------------------------------------------------------------

    def create_refund(self, params: dict, ctx: dict | None = None) -> tuple[dict, list[dict]]:
        with self.lock:
            pi_id, charge_id = params.get("payment_intent"), params.get("charge")
            if not pi_id and not charge_id:
                raise SimError(400, "One of `charge` or `payment_intent` is required.", code="parameter_missing",
                               param="charge")
            if pi_id:
                pi = self._get(self.payment_intents, "payment_intent", pi_id)
                if pi["status"] != "succeeded" or not pi["latest_charge"]:
                    raise SimError(400, f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                                   code="charge_not_refundable", param="payment_intent")
                if charge_id and charge_id != pi["latest_charge"]:
                    raise SimError(400, "The charge does not belong to this PaymentIntent.", param="charge")
                charge_id = pi["latest_charge"]
            charge = self._get(self.charges, "charge", charge_id)
            if charge["status"] != "succeeded":
                raise SimError(400, f"Charge {charge_id} has not succeeded and cannot be refunded.",
                               code="charge_not_refundable", param="charge")
            open_dispute = any(d["charge"] == charge_id and d["status"] in OPEN_DISPUTE
                               for d in self.disputes.values())
            if open_dispute:
                raise SimError(400, f"Charge {charge_id} has been disputed and cannot be refunded.",
                               code="charge_disputed", param="charge")
            remaining = charge["amount"] - charge["amount_refunded"]
            if remaining <= 0:
                raise SimError(400, f"Charge {charge_id} has already been refunded.",
                               code="charge_already_refunded", param="charge")
            if params.get("amount") in (None, ""):
                amount = remaining
            else:
                amount = o.parse_int(params["amount"], "amount", minimum=1)
            if amount > remaining:
                raise SimError(400, f"Refund amount (${amount / 100:,.2f}) is greater than unrefunded amount on "
                               f"charge (${remaining / 100:,.2f})", code="amount_too_large", param="amount")
            metadata = o.parse_metadata(params.get("metadata"), "metadata")
            refund = {
                "id": o.new_id("re_"),
                "object": "refund",
                "amount": amount,
                "balance_transaction": o.new_id("txn_"),
                "charge": charge_id,
                "created": o.now(),
                "currency": charge["currency"],
                "metadata": metadata,
                "payment_intent": charge["payment_intent"],
                "reason": params.get("reason") or None,
                "receipt_number": None,
                "status": "succeeded",
            }
            refund = shapes.complete("refund", refund)
            self.refunds[refund["id"]] = refund
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            events = [self._event("refund.created", refund, ctx), self._event("charge.refunded", charge, ctx)]
            return refund, events

    def refunds_for(self, *, charge: str | None = None, payment_intent: str | None = None) -> list[dict]:
        with self.lock:
            rows = [r for r in self.refunds.values()
                    if (charge is None or r["charge"] == charge)
                    and (payment_intent is None or r["payment_intent"] == payment_intent)]
            return rows[::-1]  # newest first, like Stripe's lists

    def create_dispute(self, charge_id: str, amount: int | None = None, reason: str = "fraudulent",
                       status: str = "needs_response") -> tuple[dict, list[dict]]:
        if status not in DISPUTE_OPENINGS:
            raise SimError(400, f"A dispute opens as one of {list(DISPUTE_OPENINGS)}, not {status!r}.",
                           param="status")
        with self.lock:
            charge = self.charge(charge_id)
            if charge["status"] != "succeeded":
                raise SimError(400, f"Charge {charge_id} has not succeeded and cannot be disputed.", param="charge")
            if charge["disputed"]:
                raise SimError(400, f"Charge {charge_id} is already disputed.", code="charge_disputed",
                               param="charge")
            amount = charge["amount"] if amount is None else o.parse_int(amount, "amount", minimum=1,
                                                                         maximum=charge["amount"])
            dispute = {
                "id": o.new_id("dp_"),
                "object": "dispute",
                "amount": amount,
                "balance_transactions": [],
                "charge": charge_id,
                "created": o.now(),
                "currency": charge["currency"],
                "evidence": shapes.empty_evidence(),
                "evidence_details": {"due_by": o.now() + 7 * 86400, "enhanced_eligibility": {},
                                     "has_evidence": False, "past_due": False, "submission_count": 0},
                "payment_method_details": {"card": {"brand": "visa", "case_type": "inquiry"
                                                    if status.startswith("warning_") else "chargeback",
                                                    "network_reason_code": "10.4"}, "type": "card"},
                "is_charge_refundable": False,
                "livemode": False,
                "metadata": {},
                "payment_intent": charge["payment_intent"],
                "reason": reason,
                "status": status,
            }
            dispute = shapes.complete("dispute", dispute)
            self.disputes[dispute["id"]] = dispute
            charge["disputed"] = True
            return dispute, [self._event("charge.dispute.created", dispute)]

    def close_dispute(self, dispute_id: str, status: str) -> tuple[dict, list[dict]]:
        if status not in DISPUTE_OUTCOMES:
            raise SimError(400, f"A dispute closes as one of {sorted(DISPUTE_OUTCOMES)}, not {status!r}.",
                           param="status")
        with self.lock:
            dispute = self.dispute(dispute_id)
            if dispute["status"] not in OPEN_DISPUTE:
                raise SimError(400, f"Dispute {dispute_id} is already closed ({dispute['status']}).",
                               param="dispute")
            if status not in _CLOSES_AS[dispute["status"]]:
                raise SimError(400, f"A dispute in status {dispute['status']} closes as one of "
                               f"{sorted(_CLOSES_AS[dispute['status']])}, not {status!r}.", param="status")
            dispute["status"] = status
            return dispute, [self._event("charge.dispute.closed", dispute)]

