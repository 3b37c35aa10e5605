"""Local Stripe server fixtures (stripe_sim).

`stripe_sim` gives a running local Stripe-compatible server (one per test session, reset for every
test) with the settings pointed at it: STRIPE_API_BASE, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET.
Every control below is a real HTTP call to the server's /_sim/ endpoints; webhook deliveries are real
signed HTTP POSTs to the URL given with `set_webhook_url` (none by default: events are recorded only).

    session = gateway.create_checkout_session(order=order, success_url=..., cancel_url=...)
    stripe_sim.set_webhook_url(live_server.url + "/api/orders/webhook/stripe")
    stripe_sim.pay(session.id)                      # charge/payment_intent succeeded + session completed
    [e["type"] for e in stripe_sim.events()]
"""

import secrets

import httpx
import pytest

from tradeline.testing.stripe_contract import ContractRecorder


class StripeSimClient:
    """Test-side handle of the local Stripe server (HTTP controls under /_sim/)."""

    def __init__(self, server):
        self.server = server
        self.url = server.url
        self.secret_key = server.secret_key
        self.webhook_secret = server.webhook_secret
        self._http = httpx.Client(base_url=server.url, timeout=30)

    # ---- plumbing ---------------------------------------------------------------------------

    def _call(self, method: str, path: str, json: dict | None = None, params: dict | None = None):
        response = self._http.request(method, path, json=json, params=params)
        if response.status_code >= 400:
            error = response.json().get("error", {})
            raise StripeSimError(response.status_code, error.get("message", response.text), error.get("code"))
        return response.json()

    def close(self) -> None:
        self._http.close()

    # ---- configuration ----------------------------------------------------------------------

    def set_webhook_url(self, url: str | None) -> None:
        self._call("POST", "/_sim/webhook", {"url": url})

    def set_faults(self, *, status: int | None = None, count: int | None = None, delay_ms: int = 0,
                   timeout: bool = False, path: str | None = None, method: str | None = None) -> None:
        """Make /v1 calls fail: `status` (e.g. 500, 503, 429), slow (`delay_ms`) or time out (`timeout`,
        a delay past STRIPE_TIMEOUT_SECONDS), for the next `count` calls (None: until cleared),
        optionally only under `path` (e.g. "/v1/refunds") and for one `method`. Default: 500s."""
        if timeout:
            from django.conf import settings

            delay_ms = int(float(settings.STRIPE_TIMEOUT_SECONDS) * 1000) + 500
        elif status is None and not delay_ms:
            status = 500
        self._call("POST", "/_sim/faults", {"status": status, "count": count, "delay_ms": delay_ms,
                                            "path": path, "method": method})

    def clear_faults(self) -> None:
        self._call("DELETE", "/_sim/faults")

    def reset(self) -> None:
        self._call("POST", "/_sim/reset")

    # ---- reading ----------------------------------------------------------------------------

    def session(self, session_id: str) -> dict:
        """The checkout session as Stripe holds it, plus `line_items` (list of Stripe line item objects)."""
        return self._call("GET", f"/_sim/sessions/{session_id}")

    def _api_get(self, path: str) -> dict:
        response = self._http.get(path, headers={"Authorization": f"Bearer {self.secret_key}"})
        response.raise_for_status()
        return response.json()

    def payment_intent(self, payment_intent_id: str) -> dict:
        return self._api_get(f"/v1/payment_intents/{payment_intent_id}")

    def charge(self, charge_id: str) -> dict:
        return self._api_get(f"/v1/charges/{charge_id}")

    def events(self, type: str | None = None) -> list[dict]:  # noqa: A002 - mirrors Stripe's parameter
        """Every event so far (oldest first), as Stripe event objects."""
        return [record["event"] for record in self.event_records(type)]

    def event_records(self, type: str | None = None) -> list[dict]:  # noqa: A002
        """[{"event": {...}, "deliveries": [{"status", "error", "mode", "attempt", ...}]}]."""
        return self._call("GET", "/_sim/events", params={"type": type} if type else None)["data"]

    def deliveries(self, event_id: str) -> list[dict]:
        for record in self.event_records():
            if record["event"]["id"] == event_id:
                return record["deliveries"]
        raise KeyError(event_id)

    def last_event(self, type: str) -> dict:
        events = self.events(type)
        if not events:
            raise AssertionError(f"no {type} event was sent")
        return events[-1]

    # ---- merchant calls ------------------------------------------------------------------------

    def create_checkout_session(self, *, unit_amount: int, quantity: int = 1, name: str, description: str,
                                metadata: dict[str, str], intent_metadata: dict[str, str] | None = None) -> dict:
        """A one-line payment session created over the API, form-encoded as the stripe library sends it,
        with no order of ours behind it."""
        form = {
            "mode": "payment",
            "line_items[0][quantity]": str(quantity),
            "line_items[0][price_data][currency]": "usd",
            "line_items[0][price_data][unit_amount]": str(unit_amount),
            "line_items[0][price_data][product_data][name]": name,
            "line_items[0][price_data][product_data][description]": description,
            "customer_email": "buyer@example.com",
            "success_url": "https://shop.example.com/thanks?cs={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://shop.example.com/cart",
            **{f"metadata[{k}]": v for k, v in metadata.items()},
            **{f"payment_intent_data[metadata][{k}]": v for k, v in (intent_metadata or {}).items()},
        }
        response = self._http.post("/v1/checkout/sessions", data=form,
                                   headers={"Authorization": f"Bearer {self.secret_key}"})
        assert response.status_code == 200, response.text
        return response.json()

    # ---- customer and Stripe actions ----------------------------------------------------------

    def _outcome(self, path: str, body: dict) -> dict:
        result = self._call("POST", path, body)
        self.last_result = result
        return result["object"]

    def pay(self, session_id: str, *, name: str = "Test Customer", email: str | None = None,
            phone: str = "+15555550123", deliver: bool = True) -> dict:
        """Card payment succeeds: charge.succeeded, payment_intent.succeeded, checkout.session.completed (paid)."""
        return self._outcome(f"/_sim/sessions/{session_id}/pay",
                             {"name": name, "email": email, "phone": phone, "deliver": deliver})

    def pay_delayed(self, session_id: str, succeed: bool | None = True, *, deliver: bool = True) -> dict:
        """Bank debit: checkout.session.completed (unpaid), then - unless succeed is None - the settlement
        (checkout.session.async_payment_succeeded or _failed). Settle later with `settle()`."""
        return self._outcome(f"/_sim/sessions/{session_id}/pay_delayed", {"settle": succeed, "deliver": deliver})

    def settle(self, session_id: str, succeed: bool = True, *, deliver: bool = True) -> dict:
        return self._outcome(f"/_sim/sessions/{session_id}/settle", {"succeed": succeed, "deliver": deliver})

    def decline(self, session_id: str, *, decline_code: str = "generic_decline", deliver: bool = True) -> dict:
        """Card declined: charge.failed, payment_intent.payment_failed; the session stays open."""
        return self._outcome(f"/_sim/sessions/{session_id}/decline",
                             {"decline_code": decline_code, "deliver": deliver})

    def cancel(self, session_id: str) -> str | None:
        """The customer clicks Cancel: no event; returns the cancel_url the browser goes back to."""
        return self._call("POST", f"/_sim/sessions/{session_id}/cancel")["redirect"]

    def expire(self, session_id: str, *, deliver: bool = True) -> dict:
        """checkout.session.expired (and payment_intent.canceled)."""
        return self._outcome(f"/_sim/sessions/{session_id}/expire", {"deliver": deliver})

    def open_payment_link(self, link_id: str) -> dict:
        """A customer opens a payment link: returns the new checkout session (pay it with pay())."""
        return self._call("POST", f"/_sim/payment_links/{link_id}/open")["object"]

    def refund(self, payment_intent_or_charge: str, amount: int | None = None, *, deliver: bool = True) -> dict:
        """A refund made in the Stripe dashboard: refund.created + charge.refunded (cumulative amount_refunded)."""
        key = "charge" if payment_intent_or_charge.startswith("ch_") else "payment_intent"
        return self._outcome("/_sim/refunds", {key: payment_intent_or_charge, "amount": amount, "deliver": deliver})

    def dispute(self, charge_id: str, *, amount: int | None = None, reason: str = "fraudulent",
                status: str = "needs_response", deliver: bool = True) -> dict:
        """charge.dispute.created; returns the dispute (id dp_...). `status` "warning_needs_response"
        opens an inquiry (closes as warning_closed) instead of a chargeback (closes as won / lost)."""
        return self._outcome("/_sim/disputes", {"charge": charge_id, "amount": amount, "reason": reason,
                                                "status": status, "deliver": deliver})

    def set_dispute_due_by(self, dispute_id: str, due_by: int) -> dict:
        """Move the dispute's evidence deadline (unix time; the past makes evidence late)."""
        return self._call("POST", f"/_sim/disputes/{dispute_id}/due_by", {"due_by": due_by})

    def close_dispute(self, dispute_id: str, status: str, *, deliver: bool = True) -> dict:
        """charge.dispute.closed with a closing status: won / lost / prevented (chargebacks), warning_closed /
        prevented (inquiries)."""
        return self._outcome(f"/_sim/disputes/{dispute_id}/close", {"status": status, "deliver": deliver})

    # ---- deliveries -------------------------------------------------------------------------

    def resend(self, event_id: str) -> dict:
        """Deliver the event once more (signed anew); returns the delivery result {"status", "error", ...}."""
        return self._call("POST", f"/_sim/events/{event_id}/resend")

    def send_events(self, event_ids: list[str]) -> list[dict]:
        """Deliver these events in exactly this order (e.g. recorded with deliver=False)."""
        return self._call("POST", "/_sim/events/send", {"event_ids": list(event_ids)})["data"]

    def deliver_concurrently(self, event_id: str, n: int) -> list[int | None]:
        """The same event N times at once; returns the HTTP status of each delivery."""
        results = self._call("POST", f"/_sim/events/{event_id}/deliver_concurrently", {"n": n})["data"]
        return [r["status"] for r in results]

    def drain(self, timeout: float = 10) -> bool:
        """Wait until events caused by API calls (expire, refunds through the SDK) have been delivered."""
        return self._call("POST", "/_sim/drain", {"timeout": timeout})["idle"]


class StripeSimError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.code = code


@pytest.fixture(scope="session")
def stripe_sim_server():
    from tradeline.devtools.stripe_sim import StripeSim

    server = StripeSim(secret_key=f"sk_test_{secrets.token_hex(12)}",
                       webhook_secret=f"whsec_{secrets.token_hex(16)}", delivery_timeout=5.0).start()
    client = StripeSimClient(server)
    yield client
    client.close()
    server.stop()


@pytest.fixture
def stripe_sim(stripe_sim_server, settings):
    """The local Stripe server, reset, with settings pointed at it (no SDK retries: faults fail fast).
    Every request, response and event of the test is checked against Stripe's definitions
    (stripe_contract.py); a drift fails the test."""
    client = stripe_sim_server
    server = client.server
    server.reset()
    server.set_webhook_url(None)
    settings.STRIPE_API_BASE = server.url
    settings.STRIPE_SECRET_KEY = server.secret_key
    settings.STRIPE_WEBHOOK_SECRET = server.webhook_secret
    settings.STRIPE_WEBHOOK_SECRETS_PREVIOUS = ""
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_TIMEOUT_SECONDS = 5
    recorder = ContractRecorder()
    server.request_hook, server.response_hook = recorder.on_request, recorder.on_response
    yield client
    server.request_hook = server.response_hook = None
    server.faults.clear()
    server.set_webhook_url(None)
    with server.state.lock:
        recorder.check_events(server.state.snapshot(server.state.events))
    if recorder.problems:
        shown = "\n  ".join(sorted(set(recorder.problems))[:30])
        pytest.fail(f"The local Stripe server drifted from Stripe's definitions:\n  {shown}", pytrace=False)


class WebhookReceiver:
    """A tiny HTTP endpoint that records what is POSTed to it and answers with `status` (default 200)."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self
        self.requests: list[dict] = []
        self.status = 200
        self.statuses: list[int] = []  # answered in turn before falling back to `status`
        self.delay = 0.0
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                import time

                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.status
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhook"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def events(self) -> list[dict]:
        import json

        with self._lock:
            return [json.loads(r["body"]) for r in self.requests]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def webhook_receiver():
    """An HTTP endpoint recording webhook deliveries (for tests of the Stripe server itself)."""
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()
