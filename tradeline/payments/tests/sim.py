"""Driving the local Stripe server in tests: real sessions, real payments, real signed events.

Events are recorded by the server (no webhook URL) and posted to our endpoint by the test, so the
test decides the order of delivery."""

from tradeline.orders.models import Order
from tradeline.payments import stripe_gateway
from tradeline.payments.tests import events
from tradeline.testing.factories import add_checkout_session


def open_session(order: Order) -> str:
    session = stripe_gateway.create_checkout_session(order=order, success_url="https://shop.example/ok",
                                                     cancel_url="https://shop.example/cancel")
    add_checkout_session(order, session.id)
    return session.id


def post_all(client, stripe_sim, types: tuple[str, ...] | None = None, after: int = 0) -> list[dict]:
    """Post every recorded event from index `after` on (optionally only these types); returns them."""
    sent = []
    for evt in stripe_sim.events()[after:]:
        if types is None or evt["type"] in types:
            assert events.post(client, evt).status_code == 200
            sent.append(evt)
    return sent


def pay(client, stripe_sim, order: Order) -> dict:
    """Open a session, pay it at the server and deliver its events; returns the paid session."""
    session_id = open_session(order)
    start = len(stripe_sim.events())
    stripe_sim.pay(session_id, name="Grace Hopper", phone="+15550123", deliver=False)
    post_all(client, stripe_sim, after=start)
    order.refresh_from_db()
    return stripe_sim.session(session_id)
