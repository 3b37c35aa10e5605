"""The contract checks themselves: they catch a drift (a test that could not fail would be worthless)."""

import pytest

from tradeline.devtools.stripe_sim import spec
from tradeline.testing.stripe_contract import (
    event_problems,
    operation_response_problems,
    response_problems,
    sdk_request_problems,
)


def test_a_missing_required_field_and_a_wrong_type_are_caught():
    problems = response_problems(spec.schema_named("refund"), {"id": "re_1", "object": "refund", "amount": "5",
                                                               "currency": "usd"})
    assert problems == ["$.created: required by the spec, missing", "$.amount: str where the spec has integer"]


def test_expandable_fields_may_be_ids_or_objects_and_newer_fields_are_tolerated(stripe_sim):
    session = stripe_sim.create_checkout_session(unit_amount=5_000, name="x", description="y", metadata={})
    intent = stripe_sim.pay(session["id"], deliver=False)["payment_intent"]
    pi = stripe_sim.payment_intent(intent)
    assert operation_response_problems("GET", f"/v1/payment_intents/{intent}", pi) == []
    pi["latest_charge"] = stripe_sim.charge(pi["latest_charge"])
    pi["a_field_from_a_newer_version"] = {"anything": 1}
    assert operation_response_problems("GET", f"/v1/payment_intents/{intent}", pi) == []
    pi["latest_charge"]["amount"] = None
    assert operation_response_problems("GET", f"/v1/payment_intents/{intent}", pi) == [
        f"GET /v1/payment_intents/{intent} $.latest_charge.amount: null is not allowed"]


def test_enum_values_of_the_pinned_version_are_accepted_others_not():
    dispute = {"object": "dispute", "status": "prevented"}
    assert not [p for p in response_problems(spec.schema_named("dispute"), dispute, "$", "dispute")
                if ".status" in p]
    dispute["status"] = "forgotten"
    assert [p for p in response_problems(spec.schema_named("dispute"), dispute, "$", "dispute")
            if ".status" in p] != []


def test_events_are_checked_with_their_object():
    problems = event_problems({"id": "evt_1", "object": "event", "api_version": "x", "created": 1,
                               "data": {"object": {"object": "charge", "id": "ch_1"}}, "livemode": False,
                               "pending_webhooks": 0, "request": {"id": None, "idempotency_key": None},
                               "type": "charge.refunded"})
    assert "event charge.refunded data.object $.amount: required by the spec, missing" in problems


@pytest.mark.parametrize(("params", "problem"), [
    ({"payment_intent": "pi_1", "colour": "x"},
     "POST /v1/refunds colour: not a parameter of the pinned SDK (RefundCreateParams)"),
    ({"payment_intent": "pi_1", "metadata": ["a"]}, "POST /v1/refunds metadata: the SDK defines a mapping here"),
])
def test_requests_are_checked_against_the_installed_sdk(params, problem):
    assert sdk_request_problems("POST /v1/refunds", params) == [problem]
    assert sdk_request_problems("POST /v1/refunds", {"payment_intent": "pi_1", "amount": "5",
                                                     "metadata": {"order_id": "1"}}) == []
