"""The local Stripe server behaves like the pinned API version: request validation with Stripe's
error bodies, deferred PaymentIntents, what is an id unless expanded, dotted expansions."""

import httpx
import pytest

from tradeline.devtools.stripe_sim import shapes
from tradeline.devtools.tests.test_stripe_sim_api import SESSION_FORM


@pytest.fixture
def api(stripe_sim):
    with httpx.Client(base_url=stripe_sim.url, timeout=10,
                      headers={"Authorization": f"Bearer {stripe_sim.secret_key}"}) as client:
        yield client


def _error(response) -> dict:
    assert response.status_code == 400, response.text
    return response.json()["error"]


@pytest.mark.parametrize(("extra", "code", "param", "message"), [
    ({"colour": "blue"}, "parameter_unknown", "colour", "Received unknown parameter: colour"),
    ({"line_items[0][price_data][colour]": "blue"}, "parameter_unknown", "line_items[0][price_data][colour]",
     "Received unknown parameter: line_items[0][price_data][colour]"),
    ({"client_reference_id": "x" * 201}, "parameter_invalid_string", "client_reference_id",
     "Invalid string: " + "x" * 50 + "...; must be at most 200 characters"),
    ({"expires_at": "soon"}, "parameter_invalid_integer", "expires_at", "Invalid integer: soon"),
    ({"mode": "rental"}, "parameter_invalid_string", "mode",
     "Invalid mode: must be one of payment, setup, or subscription"),
    ({"line_items[0][quantity]": "two"}, "parameter_invalid_integer", "line_items[0][quantity]",
     "Invalid integer: two"),
])
def test_checkout_session_params_are_validated_like_stripe(api, stripe_sim, extra, code, param, message):
    error = _error(api.post("/v1/checkout/sessions", data={**SESSION_FORM, **extra}))
    assert (error["type"], error["code"], error["param"], error["message"]) == (
        "invalid_request_error", code, param, message)
    assert stripe_sim.events() == []


def test_refund_reason_must_be_one_of_stripes(api, stripe_sim):
    session = api.post("/v1/checkout/sessions", data=SESSION_FORM).json()
    intent = stripe_sim.pay(session["id"], deliver=False)["payment_intent"]
    error = _error(api.post("/v1/refunds", data={"payment_intent": intent, "reason": "changed_mind"}))
    assert (error["code"], error["param"], error["message"]) == (
        "parameter_invalid_string", "reason",
        "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer")
    error = _error(api.post("/v1/refunds", data={"payment_intent": intent, "amount": "12.50"}))
    assert (error["code"], error["param"]) == ("parameter_invalid_integer", "amount")
    ok = api.post("/v1/refunds", data={"payment_intent": intent, "amount": "100", "reason": "duplicate"})
    assert (ok.status_code, ok.json()["reason"]) == (200, "duplicate")


def test_a_session_has_no_payment_intent_until_it_is_confirmed(api, stripe_sim):
    session = api.post("/v1/checkout/sessions", data=SESSION_FORM).json()
    assert session["payment_intent"] is None
    expired = api.post(f"/v1/checkout/sessions/{session['id']}/expire").json()
    assert expired["payment_intent"] is None
    assert [e["type"] for e in stripe_sim.events()] == ["checkout.session.expired"]


def test_ids_unless_expanded_and_dotted_expansions(api, stripe_sim):
    session = api.post("/v1/checkout/sessions", data=SESSION_FORM).json()
    intent = stripe_sim.pay(session["id"], deliver=False)["payment_intent"]
    api.post("/v1/refunds", data={"payment_intent": intent, "amount": "500"})
    items = api.get(f"/v1/checkout/sessions/{session['id']}/line_items").json()["data"]
    assert items[0]["price"]["product"].startswith("prod_")
    expanded = api.get(f"/v1/checkout/sessions/{session['id']}/line_items",
                       params={"expand[]": "data.price.product"}).json()["data"]
    assert (expanded[0]["price"]["product"]["object"], expanded[0]["price"]["product"]["name"]) == (
        "product", "Chase tradeline, $10,000.00 limit")
    deep = api.get(f"/v1/checkout/sessions/{session['id']}", params={
        "expand[]": ["payment_intent.latest_charge", "line_items.data.price.product"]}).json()
    charge = deep["payment_intent"]["latest_charge"]
    assert (charge["object"], charge["amount_refunded"], "refunds" in charge) == ("charge", 500, False)
    assert deep["line_items"]["data"][1]["price"]["product"]["name"] == "Amex tradeline"
    plain = api.get(f"/v1/charges/{charge['id']}").json()
    assert "refunds" not in plain and plain["payment_intent"] == intent
    with_refunds = api.get(f"/v1/charges/{charge['id']}", params={"expand[]": "refunds"}).json()
    assert [r["amount"] for r in with_refunds["refunds"]["data"]] == [500]
    error = _error(api.get(f"/v1/checkout/sessions/{session['id']}", params={"expand[]": "a.b.c.d.e"}))
    assert error["param"] == "expand"
    error = _error(api.get(f"/v1/charges/{charge['id']}", params={"expand[]": "metadata"}))
    assert error["message"] == "This property cannot be expanded (metadata)."


def test_objects_carry_stripes_full_field_set(api, stripe_sim):
    session = api.post("/v1/checkout/sessions", data=SESSION_FORM).json()
    assert set(session) == shapes.field_set("checkout.session")
    intent = stripe_sim.pay(session["id"], deliver=False)["payment_intent"]
    pi = api.get(f"/v1/payment_intents/{intent}").json()
    assert set(pi) == shapes.field_set("payment_intent")
    charge = api.get(f"/v1/charges/{pi['latest_charge']}").json()
    assert set(charge) == shapes.field_set("charge")  # no `refunds` unless expanded
    refund = api.post("/v1/refunds", data={"payment_intent": intent, "amount": "100"}).json()
    assert set(refund) == shapes.field_set("refund")
    item = api.get(f"/v1/checkout/sessions/{session['id']}/line_items").json()["data"][0]
    assert set(item) == shapes.field_set("item")
