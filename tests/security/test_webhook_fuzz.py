"""Fuzzing the Stripe webhook past its signature: correctly signed but arbitrary events.

The OpenAPI schema cannot describe the webhook's body (the raw bytes are verified before anything
is parsed), so schemathesis only ever sees its 400. Here hypothesis builds events of every type we
handle (and unknown ones), with data objects that are partly real (our order ids, amounts) and
partly junk (wrong types, missing keys, huge numbers), signs them with the webhook secret and
posts them. Whatever the body says, the answer is a JSON 200 (processed, ignored, needs review,
duplicate) or a 4xx — never a 5xx — and an unsigned copy changes nothing.
"""

import json
import time

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradeline.payments.handlers import HANDLERS

pytestmark = pytest.mark.django_db

junk = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.text(max_size=12),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def event_strategy(order_ids: list[str]):
    ids = st.one_of(st.sampled_from(order_ids), st.text(max_size=40), junk)
    metadata = st.one_of(junk, st.fixed_dictionaries({"order_id": ids}, optional={"broker_id": junk}))
    data_object = st.fixed_dictionaries(
        {"id": st.one_of(st.text(min_size=1, max_size=30), junk)},
        optional={
            "object": st.sampled_from(["checkout.session", "payment_intent", "charge", "dispute", "refund"]),
            "metadata": metadata,
            "amount": junk, "amount_total": junk, "amount_received": junk, "amount_refunded": junk,
            "currency": st.one_of(st.just("usd"), junk),
            "payment_status": st.one_of(st.sampled_from(["paid", "unpaid", "no_payment_required"]), junk),
            "payment_intent": st.one_of(st.text(max_size=20), junk),
            "charge": st.one_of(st.text(max_size=20), junk),
            "status": st.one_of(st.sampled_from(["won", "lost", "succeeded", "needs_response"]), junk),
            "customer_details": st.one_of(junk, st.fixed_dictionaries({}, optional={"email": junk, "name": junk})),
            "refunds": junk,
        },
    )
    return st.fixed_dictionaries({
        "id": st.one_of(st.text(min_size=1, max_size=30).map(lambda s: "evt_" + s), junk),
        "object": st.just("event"),
        "type": st.one_of(st.sampled_from(sorted(HANDLERS)), st.text(max_size=30), junk),
        "created": st.one_of(st.just(int(time.time())), junk),
        "data": st.one_of(st.fixed_dictionaries({"object": data_object}), junk),
    }, optional={"livemode": junk, "api_version": junk})


def test_signed_events_of_any_shape_never_cause_a_server_error(stripe_sim, make_broker, make_order):
    from tradeline.payments.models import WebhookEvent
    from tradeline.payments.stripe_gateway import sign_payload

    broker = make_broker()
    order_ids = [str(make_order(broker=broker).pk), str(make_order(broker=None).pk)]
    client = Client()
    seen: dict[int, int] = {}

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(event=event_strategy(order_ids))
    def post(event):
        payload = json.dumps(event).encode()
        rows_before = WebhookEvent.objects.count()
        unsigned = client.post("/api/orders/webhook/stripe", payload, content_type="application/json",
                               HTTP_STRIPE_SIGNATURE=sign_payload(payload, "whsec_someone_else"))
        assert unsigned.status_code == 400 and WebhookEvent.objects.count() == rows_before
        response = client.post("/api/orders/webhook/stripe", payload, content_type="application/json",
                               HTTP_STRIPE_SIGNATURE=sign_payload(payload, stripe_sim.webhook_secret))
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, (response.status_code, response.content[:300], event)
        assert response["Content-Type"].startswith("application/json")
        body = response.json()
        if response.status_code == 200:
            assert body["received"] is True and body["status"] in (
                "processed", "ignored", "needs_review", "deferred", "duplicate")
        else:
            assert set(body) == {"error", "code", "details"}

    post()
    assert seen.get(200, 0) > 0, seen  # well-formed events got through the signature check
