"""In-memory, thread-safe state of the local Stripe server and every state change it can make.

As in the pinned API version, a Checkout Session has no PaymentIntent until it is confirmed (paid,
debited or declined); expiring a session that was never confirmed cancels no PaymentIntent.

Each operation runs under one lock and returns (object, events); the caller delivers the events
after the lock is released (never an HTTP call while holding it). Event payloads are snapshots of
the objects at the moment of the change, as Stripe sends them.
"""

import copy
import threading
from dataclasses import dataclass

from tradeline.devtools.stripe_sim import objects as o, shapes
from tradeline.devtools.stripe_sim.errors import SimError, missing
from tradeline.devtools.stripe_sim.state_after import AfterPaymentMixin

@dataclass
class Customer:
    name: str = "Test Customer"
    email: str | None = None
    phone: str = "+15555550123"


class SimState(AfterPaymentMixin):
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
            self.products: dict[str, dict] = {}
            # What a session's PaymentIntent will carry once the session is confirmed (it has none before).
            self.session_intent_data: dict[str, dict] = {}
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
        if isinstance(reference, str) and len(reference) > 200:
            raise SimError(400, "Invalid string: client_reference_id must be at most 200 characters",
                           code="parameter_invalid_string", param="client_reference_id")
        with self.lock:
            session_id = o.new_id("cs_test_a1", 54)
            session = shapes.complete("checkout.session", {
                "id": session_id,
                "amount_subtotal": total,
                "amount_total": total,
                "cancel_url": cancel_url,
                "client_reference_id": reference if isinstance(reference, str) and reference else None,
                "consent": None,
                "consent_collection": consent_collection,
                "custom_text": custom_text,
                "created": created,
                "currency": currency,
                "customer_email": customer_email,
                "expires_at": expires_at,
                "metadata": metadata,
                "payment_intent": None,  # created when the session is confirmed (API 2022-08-01)
                "payment_link": payment_link,
                "payment_method_options": {"card": {"request_three_d_secure": "automatic"},
                                           "us_bank_account": {"verification_method": "automatic"}},
                "payment_method_types": ["card", "us_bank_account"],
                "success_url": success_url,
                "url": f"{base_url}/checkout/{session_id}",
            })
            self.sessions[session_id] = session
            self.session_intent_data[session_id] = {"metadata": pi_metadata, "description": pi_data.get("description")}
            items, products = o.line_item_objects(items)
            self.session_items[session_id] = items
            self.products.update({p["id"]: p for p in products})
            return session

    def line_items(self, session_id: str) -> list[dict]:
        self.session(session_id)
        return self.session_items[session_id]

    def session_with_items(self, session_id: str) -> dict:
        """For the test controls and the hosted page: the session with its line items, products expanded."""
        with self.lock:
            session = self.snapshot(self.session(session_id))
            items = self.snapshot(self.line_items(session_id))
            for item in items:
                product = item["price"]["product"]
                item["price"]["product"] = self.snapshot(self.products.get(product, {"id": product}))
            session["line_items"] = items
            return session

    def _customer_details(self, session: dict, customer: Customer) -> dict:
        return {"address": shapes.address(), "business_name": None,
                "email": customer.email or session["customer_email"] or "customer@example.com",
                "individual_name": None, "name": customer.name, "phone": customer.phone, "tax_exempt": "none",
                "tax_ids": []}

    def _confirm(self, session: dict, method: str) -> tuple[dict, list[dict]]:
        """The session is confirmed: its PaymentIntent is created now (or the one of an earlier,
        declined attempt is reused). Returns (intent, []): Stripe also emits payment_intent.created
        here, which the shop's webhook endpoint is not subscribed to, so it is not recorded."""
        if session["payment_intent"]:
            pi = self.payment_intents[session["payment_intent"]]
            pi["payment_method_types"] = [method]
            return pi, []
        data = self.session_intent_data.get(session["id"]) or {}
        pi = o.payment_intent_object(amount=session["amount_total"], currency=session["currency"],
                                     metadata=data.get("metadata") or {}, description=data.get("description"),
                                     receipt_email=session["customer_email"], method=method)
        self.payment_intents[pi["id"]] = pi
        session["payment_intent"] = pi["id"]
        return pi, []

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
            pi, created = self._confirm(session, "card")
            details = self._customer_details(session, customer)
            charge = o.charge_object(pi=pi, status="succeeded", method="card", billing=details)
            self.charges[charge["id"]] = charge
            pi.update(status="succeeded", amount_received=pi["amount"], latest_charge=charge["id"],
                      payment_method=charge["payment_method"], last_payment_error=None)
            self._complete(session, customer, "paid")
            events = created + [self._event("charge.succeeded", charge), self._event("payment_intent.succeeded", pi),
                                self._event("checkout.session.completed", session)]
            return session, events

    def pay_delayed(self, session_id: str, customer: Customer) -> tuple[dict, list[dict]]:
        """The customer pays with a bank debit: the session completes unpaid, the money settles later."""
        with self.lock:
            session = self._open_session(session_id)
            pi, created = self._confirm(session, "us_bank_account")
            details = self._customer_details(session, customer)
            charge = o.charge_object(pi=pi, status="pending", method="us_bank_account", billing=details)
            self.charges[charge["id"]] = charge
            pi.update(status="processing", latest_charge=charge["id"], payment_method=charge["payment_method"],
                      last_payment_error=None)
            self._complete(session, customer, "unpaid")
            events = created + [self._event("charge.pending", charge), self._event("payment_intent.processing", pi),
                                self._event("checkout.session.completed", session)]
            return session, events

    def settle(self, session_id: str, succeed: bool) -> tuple[dict, list[dict]]:
        """The delayed payment of a completed-unpaid session clears or fails."""
        with self.lock:
            session = self.session(session_id)
            pi = self.payment_intents.get(session["payment_intent"] or "") or {}
            if (session["status"] != "complete" or session["payment_status"] != "unpaid"
                    or pi.get("status") != "processing"):
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
            pi, created = self._confirm(session, "card")
            details = self._customer_details(session, customer)
            message = "Your card was declined."
            charge = o.charge_object(pi=pi, status="failed", method="card", billing=details,
                                     failure=("card_declined", message))
            self.charges[charge["id"]] = charge
            pi.update(status="requires_payment_method", latest_charge=charge["id"],
                      last_payment_error={"type": "card_error", "code": "card_declined", "decline_code": decline_code,
                                          "message": message, "charge": charge["id"]})
            events = created + [self._event("charge.failed", charge),
                                self._event("payment_intent.payment_failed", pi)]
            return session, events

    def expire(self, session_id: str, ctx: dict | None = None) -> tuple[dict, list[dict]]:
        with self.lock:
            session = self.session(session_id)
            if session["status"] != "open":
                raise SimError(400, f"Only Checkout Sessions with a status in [\"open\"] can be expired. This "
                               f"session has a status of \"{session['status']}\".",
                               code="checkout_session_not_open", param="session")
            session.update(status="expired", url=None)
            events = []
            if session["payment_intent"]:  # only a session confirmed once (e.g. a declined card) has one
                pi = self.payment_intents[session["payment_intent"]]
                pi.update(status="canceled", canceled_at=o.now(), cancellation_reason="abandoned")
                events.append(self._event("payment_intent.canceled", pi, ctx))
            events.append(self._event("checkout.session.expired", session, ctx))
            return session, events

    def due_for_expiry(self) -> list[str]:
        with self.lock:
            t = o.now()
            return [s["id"] for s in self.sessions.values() if s["status"] == "open" and s["expires_at"] <= t]

    # ---- events ----------------------------------------------------------------------------

    def event_records(self, event_type: str | None = None) -> list[dict]:
        with self.lock:
            return [{"event": copy.deepcopy(e), "deliveries": list(self.deliveries[e["id"]])}
                    for e in self.events if event_type is None or e["type"] == event_type]

    def record_delivery(self, event_id: str, result: dict) -> None:
        with self.lock:
            self.deliveries.setdefault(event_id, []).append(result)
