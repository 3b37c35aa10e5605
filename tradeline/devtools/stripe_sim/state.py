"""In-memory, thread-safe state of the local Stripe server and every state change it can make.

Each operation runs under one lock and returns (object, events); the caller delivers the events
after the lock is released (never an HTTP call while holding it). Event payloads are snapshots of
the objects at the moment of the change, as Stripe sends them.
"""

import copy
import threading
from dataclasses import dataclass

from tradeline.devtools.stripe_sim import objects as o
from tradeline.devtools.stripe_sim.disputes import empty_evidence
from tradeline.devtools.stripe_sim.errors import SimError, missing

OPEN_DISPUTE = {"needs_response", "under_review", "warning_needs_response", "warning_under_review"}
DISPUTE_OUTCOMES = {"won", "lost", "warning_closed"}


@dataclass
class Customer:
    name: str = "Test Customer"
    email: str | None = None
    phone: str = "+15555550123"


class SimState:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.sessions: dict[str, dict] = {}
            self.session_items: dict[str, list[dict]] = {}
            self.payment_intents: dict[str, dict] = {}
            self.charges: dict[str, dict] = {}
            self.refunds: dict[str, dict] = {}
            self.disputes: dict[str, dict] = {}
            self.payment_links: dict[str, dict] = {}
            self.link_items: dict[str, list[dict]] = {}
            self.events: list[dict] = []
            self.events_by_id: dict[str, dict] = {}
            self.deliveries: dict[str, list[dict]] = {}

    # ---- helpers ---------------------------------------------------------------------------

    def _event(self, event_type: str, obj: dict, ctx: dict | None = None) -> dict:
        ctx = ctx or {}
        event = o.event_object(event_type, copy.deepcopy(obj), request_id=ctx.get("request_id"),
                               idempotency_key=ctx.get("idempotency_key"))
        self.events.append(event)
        self.events_by_id[event["id"]] = event
        self.deliveries[event["id"]] = []
        return event

    def _get(self, table: dict, kind: str, object_id: str) -> dict:
        obj = table.get(object_id)
        if obj is None:
            raise missing(kind, object_id)
        return obj

    def session(self, session_id: str) -> dict:
        return self._get(self.sessions, "checkout.session", session_id)

    def payment_intent(self, pi_id: str) -> dict:
        return self._get(self.payment_intents, "payment_intent", pi_id)

    def charge(self, charge_id: str) -> dict:
        return self._get(self.charges, "charge", charge_id)

    def refund(self, refund_id: str) -> dict:
        return self._get(self.refunds, "refund", refund_id)

    def dispute(self, dispute_id: str) -> dict:
        return self._get(self.disputes, "dispute", dispute_id)

    def payment_link(self, link_id: str) -> dict:
        return self._get(self.payment_links, "payment_link", link_id)

    def event(self, event_id: str) -> dict:
        return self._get(self.events_by_id, "event", event_id)

    def snapshot(self, obj: dict) -> dict:
        with self.lock:
            return copy.deepcopy(obj)

    def _open_session(self, session_id: str) -> dict:
        session = self.session(session_id)
        if session["status"] != "open":
            raise SimError(400, f"This Checkout Session is {session['status']} and can no longer be paid.",
                           code="checkout_session_not_open", param="session")
        return session

    # ---- checkout sessions -----------------------------------------------------------------

    def create_session(self, params: dict, base_url: str, *, payment_link: str | None = None,
                       ctx: dict | None = None) -> dict:
        mode = params.get("mode")
        if not mode:
            raise SimError(400, "Missing required param: mode.", code="parameter_missing", param="mode")
        if mode != "payment":
            raise SimError(400, f"Invalid mode: {mode}. The local Stripe server supports mode=payment only.",
                           code="parameter_invalid_string", param="mode")
        items = o.parse_line_items(params.get("line_items"))
        customer_email = o.parse_email(params.get("customer_email"), "customer_email")
        success_url = o.parse_url(params.get("success_url"), "success_url")
        cancel_url = o.parse_url(params.get("cancel_url"), "cancel_url")
        metadata = o.parse_metadata(params.get("metadata"), "metadata")
        pi_data = params.get("payment_intent_data") or {}
        if not isinstance(pi_data, dict):
            raise SimError(400, "Invalid object", param="payment_intent_data")
        pi_metadata = o.parse_metadata(pi_data.get("metadata"), "payment_intent_data[metadata]")
        created = o.now()
        if params.get("expires_at") not in (None, ""):
            expires_at = o.parse_int(params["expires_at"], "expires_at")
            if not created + 1800 - 5 <= expires_at <= created + 86400 + 5:
                raise SimError(400, "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
                               "Checkout Session creation.", code="parameter_invalid_integer", param="expires_at")
        else:
            expires_at = created + 86400
        consent_collection, custom_text = o.parse_consent_params(params)
        currency = items[0]["currency"]
        total = sum(item["unit_amount"] * item["quantity"] for item in items)
        reference = params.get("client_reference_id")
        with self.lock:
            pi = o.payment_intent_object(amount=total, currency=currency, metadata=pi_metadata,
                                         description=pi_data.get("description"), receipt_email=customer_email)
            session_id = o.new_id("cs_test_a1", 54)
            session = {
                "id": session_id,
                "object": "checkout.session",
                "amount_subtotal": total,
                "amount_total": total,
                "cancel_url": cancel_url,
                "client_reference_id": reference if isinstance(reference, str) and reference else None,
                "consent": None,
                "consent_collection": consent_collection,
                "custom_text": custom_text,
                "created": created,
                "currency": currency,
                "customer": None,
                "customer_creation": "if_required",
                "customer_details": None,
                "customer_email": customer_email,
                "expires_at": expires_at,
                "livemode": False,
                "locale": None,
                "metadata": metadata,
                "mode": "payment",
                "payment_intent": pi["id"],
                "payment_link": payment_link,
                "payment_method_types": ["card", "us_bank_account"],
                "payment_status": "unpaid",
                "status": "open",
                "success_url": success_url,
                "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
                "ui_mode": "hosted",
                "url": f"{base_url}/checkout/{session_id}",
            }
            self.payment_intents[pi["id"]] = pi
            self.sessions[session_id] = session
            self.session_items[session_id] = o.line_item_objects(items)
            return session

    def line_items(self, session_id: str) -> list[dict]:
        self.session(session_id)
        return self.session_items[session_id]

    def _customer_details(self, session: dict, customer: Customer) -> dict:
        return {"address": None, "email": customer.email or session["customer_email"] or "customer@example.com",
                "name": customer.name, "phone": customer.phone, "tax_exempt": "none", "tax_ids": []}

    def _complete(self, session: dict, customer: Customer, payment_status: str) -> None:
        session["status"] = "complete"
        session["payment_status"] = payment_status
        session["customer_details"] = self._customer_details(session, customer)
        if (session.get("consent_collection") or {}).get("terms_of_service") == "required":
            # The hosted page cannot be submitted without ticking the terms box.
            session["consent"] = {"promotions": None, "terms_of_service": "accepted"}
        session["url"] = None
        link_id = session.get("payment_link")
        if link_id and link_id in self.payment_links:
            link = self.payment_links[link_id]
            limit = ((link.get("restrictions") or {}).get("completed_sessions") or {}).get("limit")
            if limit:
                link["restrictions"]["completed_sessions"]["count"] += 1
                if link["restrictions"]["completed_sessions"]["count"] >= limit:
                    link["active"] = False

    def pay(self, session_id: str, customer: Customer) -> tuple[dict, list[dict]]:
        """The customer pays by card and the card succeeds."""
        with self.lock:
            session = self._open_session(session_id)
            pi = self.payment_intents[session["payment_intent"]]
            details = self._customer_details(session, customer)
            charge = o.charge_object(pi=pi, status="succeeded", method="card", billing=details)
            self.charges[charge["id"]] = charge
            pi.update(status="succeeded", amount_received=pi["amount"], latest_charge=charge["id"],
                      payment_method=charge["payment_method"], last_payment_error=None)
            self._complete(session, customer, "paid")
            events = [self._event("charge.succeeded", charge), self._event("payment_intent.succeeded", pi),
                      self._event("checkout.session.completed", session)]
            return session, events

    def pay_delayed(self, session_id: str, customer: Customer) -> tuple[dict, list[dict]]:
        """The customer pays with a bank debit: the session completes unpaid, the money settles later."""
        with self.lock:
            session = self._open_session(session_id)
            pi = self.payment_intents[session["payment_intent"]]
            details = self._customer_details(session, customer)
            charge = o.charge_object(pi=pi, status="pending", method="us_bank_account", billing=details)
            self.charges[charge["id"]] = charge
            pi.update(status="processing", latest_charge=charge["id"], payment_method=charge["payment_method"],
                      last_payment_error=None)
            self._complete(session, customer, "unpaid")
            events = [self._event("charge.pending", charge), self._event("payment_intent.processing", pi),
                      self._event("checkout.session.completed", session)]
            return session, events

    def settle(self, session_id: str, succeed: bool) -> tuple[dict, list[dict]]:
        """The delayed payment of a completed-unpaid session clears or fails."""
        with self.lock:
            session = self.session(session_id)
            pi = self.payment_intents[session["payment_intent"]]
            if session["status"] != "complete" or session["payment_status"] != "unpaid" or pi["status"] != "processing":
                raise SimError(400, "This Checkout Session has no delayed payment waiting to settle.",
                               code="payment_not_processing", param="session")
            charge = self.charges[pi["latest_charge"]]
            if succeed:
                charge.update(status="succeeded", paid=True, captured=True, amount_captured=charge["amount"],
                              balance_transaction=o.new_id("txn_"))
                pi.update(status="succeeded", amount_received=pi["amount"])
                session["payment_status"] = "paid"
                events = [self._event("charge.succeeded", charge), self._event("payment_intent.succeeded", pi),
                          self._event("checkout.session.async_payment_succeeded", session)]
            else:
                error = {"type": "invalid_request_error", "code": "payment_method_provider_decline",
                         "message": "The customer's bank account could not be debited.", "charge": charge["id"]}
                charge.update(status="failed", failure_code="account_closed",
                              failure_message="The customer's bank account has been closed.")
                pi.update(status="requires_payment_method", last_payment_error=error)
                events = [self._event("charge.failed", charge), self._event("payment_intent.payment_failed", pi),
                          self._event("checkout.session.async_payment_failed", session)]
            return session, events

    def decline(self, session_id: str, customer: Customer, decline_code: str = "generic_decline"
                ) -> tuple[dict, list[dict]]:
        """The card is declined; the session stays open so the customer can try again."""
        with self.lock:
            session = self._open_session(session_id)
            pi = self.payment_intents[session["payment_intent"]]
            details = self._customer_details(session, customer)
            message = "Your card was declined."
            charge = o.charge_object(pi=pi, status="failed", method="card", billing=details,
                                     failure=("card_declined", message))
            self.charges[charge["id"]] = charge
            pi.update(status="requires_payment_method", latest_charge=charge["id"],
                      last_payment_error={"type": "card_error", "code": "card_declined", "decline_code": decline_code,
                                          "message": message, "charge": charge["id"]})
            events = [self._event("charge.failed", charge), self._event("payment_intent.payment_failed", pi)]
            return session, events

    def expire(self, session_id: str, ctx: dict | None = None) -> tuple[dict, list[dict]]:
        with self.lock:
            session = self.session(session_id)
            if session["status"] != "open":
                raise SimError(400, f"Only Checkout Sessions with a status in [\"open\"] can be expired. This "
                               f"session has a status of \"{session['status']}\".",
                               code="checkout_session_not_open", param="session")
            session.update(status="expired", url=None)
            pi = self.payment_intents[session["payment_intent"]]
            pi.update(status="canceled", canceled_at=o.now(), cancellation_reason="abandoned")
            events = [self._event("payment_intent.canceled", pi, ctx),
                      self._event("checkout.session.expired", session, ctx)]
            return session, events

    def due_for_expiry(self) -> list[str]:
        with self.lock:
            t = o.now()
            return [s["id"] for s in self.sessions.values() if s["status"] == "open" and s["expires_at"] <= t]

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
            self.payment_links[link_id] = link
            self.link_items[link_id] = items
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
            self.refunds[refund["id"]] = refund
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            charge["refunds"]["data"].insert(0, copy.deepcopy(refund))
            charge["refunds"]["total_count"] += 1
            events = [self._event("refund.created", refund, ctx), self._event("charge.refunded", charge, ctx)]
            return refund, events

    def refunds_for(self, *, charge: str | None = None, payment_intent: str | None = None) -> list[dict]:
        with self.lock:
            rows = [r for r in self.refunds.values()
                    if (charge is None or r["charge"] == charge)
                    and (payment_intent is None or r["payment_intent"] == payment_intent)]
            return rows[::-1]  # newest first, like Stripe's lists

    def create_dispute(self, charge_id: str, amount: int | None = None, reason: str = "fraudulent"
                       ) -> tuple[dict, list[dict]]:
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
                "evidence": empty_evidence(),
                "evidence_details": {"due_by": o.now() + 7 * 86400, "has_evidence": False, "past_due": False,
                                     "submission_count": 0, "submission_method": "not_submitted"},
                "is_charge_refundable": False,
                "livemode": False,
                "metadata": {},
                "payment_intent": charge["payment_intent"],
                "reason": reason,
                "status": "needs_response",
            }
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
            dispute["status"] = status
            return dispute, [self._event("charge.dispute.closed", dispute)]

    # ---- events ----------------------------------------------------------------------------

    def event_records(self, event_type: str | None = None) -> list[dict]:
        with self.lock:
            return [{"event": copy.deepcopy(e), "deliveries": list(self.deliveries[e["id"]])}
                    for e in self.events if event_type is None or e["type"] == event_type]

    def record_delivery(self, event_id: str, result: dict) -> None:
        with self.lock:
            self.deliveries.setdefault(event_id, []).append(result)
