"""End to end over real HTTP: the app (live_server), the supplier simulator and the local Stripe server.

checkout through our API -> the Stripe session holds the right line items and amounts -> the
customer presses Pay on the hosted page -> Stripe's signed events reach our webhook URL, where our
own verifier (stripe_gateway.verify_webhook) accepts the exact bytes delivered. A recording relay
sits in front of our webhook endpoint so the delivered bytes and our endpoint's answer are both seen.
"""

import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tradeline.testing.agreements import agreement_fields
from tradeline.brokers import keys
from tradeline.brokers.models import BrokerApiKey, KeyKind
from tradeline.catalog.models import Tradeline
from tradeline.core.money import percent_of
from tradeline.orders.models import Order
from tradeline.payments.stripe_gateway import verify_webhook
from tradeline.testing.factories import make_broker
from tradeline.testing.factories import session_of

WEBHOOK_PATH = "/api/orders/webhook/stripe"


class RecordingRelay:
    """Receives Stripe's deliveries, records the raw request, forwards it unchanged to our webhook
    endpoint and answers with our endpoint's status."""

    def __init__(self, target_url: str):
        relay = self
        self.deliveries: list[dict] = []
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                signature = self.headers.get("Stripe-Signature")
                try:
                    answer = httpx.post(target_url, content=body, timeout=10, headers={
                        "Content-Type": self.headers.get("Content-Type", "application/json"),
                        "Stripe-Signature": signature or "",
                    })
                    status, text = answer.status_code, answer.text
                except httpx.HTTPError as exc:
                    status, text = 599, repr(exc)
                with relay._lock:
                    relay.deliveries.append({"body": body, "signature": signature, "status": status,
                                             "answer": text})
                self.send_response(200 if status < 300 else status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/relay"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def relay(live_server):
    relay = RecordingRelay(live_server.url + WEBHOOK_PATH)
    yield relay
    relay.stop()


@pytest.mark.django_db(transaction=True)
def test_checkout_session_and_signed_paid_event(live_server, supplier_sim, stripe_sim, relay, settings):
    settings.RATE_LIMIT_CHECKOUT = "1000/60"
    assert supplier_sim.sync().status == "SUCCEEDED"
    cards = list(Tradeline.objects.filter(is_available=True, stock__gte=2).order_by("card_id")[:2])
    assert len(cards) == 2

    # docs/domain.md's rounding example rates: share 12.5 %, markup 7.5 %.
    broker = make_broker(share="12.5", markup_percent="7.5", website="https://broker.example.com")
    key, prefix, key_hash = keys.new_key(keys.PUBLISHABLE_PREFIX)
    BrokerApiKey.objects.create(broker=broker, kind=KeyKind.PUBLISHABLE, prefix=prefix, key_hash=key_hash)
    stripe_sim.set_webhook_url(relay.url)

    # 1. Checkout through our API, as the widget does.
    cart = [(cards[0], 2), (cards[1], 1)]
    response = httpx.post(f"{live_server.url}/api/orders/checkout", headers={"x-api-key": key}, timeout=20, json={
        "customer_email": "buyer@example.com", "customer_name": "Bea Buyer",
        "items": [{"card_id": card.card_id, "quantity": quantity} for card, quantity in cart],
        **agreement_fields(),
    })
    assert response.status_code == 201, response.text
    out = response.json()
    order = Order.objects.get(pk=out["order_id"])
    unit = {card.card_id: card.price + percent_of(card.price, Decimal("7.5")) for card, _ in cart}
    expected_total = sum(unit[card.card_id] * quantity for card, quantity in cart)
    assert out["total_charged"] == order.total_charged == expected_total
    assert out["order_number"] == order.order_number and out["session_id"] == session_of(order)

    # 2. The local Stripe holds the session with our line items at the customer unit prices.
    session = stripe_sim.session(out["session_id"])
    assert session["url"] == out["checkout_url"] and session["status"] == "open"
    assert session["amount_total"] == expected_total and session["currency"] == "usd"
    assert session["customer_email"] == "buyer@example.com"
    assert session["metadata"] == {"order_id": str(order.pk), "order_number": order.order_number,
                                   "broker_id": str(broker.pk)}
    assert session["success_url"] == f"https://broker.example.com/success?order={order.order_number}"
    assert session["cancel_url"] == "https://broker.example.com/cart"
    assert sorted((li["price"]["product"]["metadata"]["card_id"], li["price"]["unit_amount"], li["quantity"])
                  for li in session["line_items"]) == sorted(
        (card.card_id, unit[card.card_id], quantity) for card, quantity in cart)
    assert session["payment_intent"] is None  # created when the customer confirms (API 2022-08-01)

    # 3. The hosted page shows the total; the customer presses Pay and is sent to the success URL.
    page = httpx.get(out["checkout_url"], timeout=10)
    total_text = f"${expected_total // 100:,}.{expected_total % 100:02d}"
    assert page.status_code == 200 and total_text in page.text
    paid = httpx.post(f"{out['checkout_url']}/pay", data={"email": "buyer@example.com", "name": "Bea Buyer"},
                      timeout=20, follow_redirects=False)
    assert paid.status_code in (302, 303)
    assert paid.headers["location"] == session["success_url"]
    intent = stripe_sim.payment_intent(stripe_sim.session(out["session_id"])["payment_intent"])
    assert intent["amount"] == expected_total and intent["metadata"]["order_id"] == str(order.pk)

    # 4. Stripe's events arrived signed; our verifier accepts the exact bytes; our endpoint said 2xx.
    assert relay.deliveries, "no webhook was delivered"
    verified = [verify_webhook(d["body"], d["signature"]) for d in relay.deliveries]
    completed = [e for e in verified if e["type"] == "checkout.session.completed"]
    assert len(completed) == 1
    event = completed[0]["data"]["object"]
    assert (event["id"], event["payment_status"], event["amount_total"]) == (out["session_id"], "paid", expected_total)
    assert event["metadata"]["order_id"] == str(order.pk)
    assert {e["id"] for e in verified} == {e["id"] for e in stripe_sim.events()}
    assert all(200 <= d["status"] < 300 for d in relay.deliveries), [(d["status"], d["answer"]) for d in
                                                                     relay.deliveries]
    # A body altered in transit would not verify.
    with pytest.raises(Exception) as err:
        verify_webhook(relay.deliveries[0]["body"] + b" ", relay.deliveries[0]["signature"])
    assert getattr(err.value, "code", None) == "INVALID_SIGNATURE"
