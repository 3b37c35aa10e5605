"""Payment outcomes of the local Stripe server and the signed events it delivers (real HTTP both ways)."""

import re
import time

import pytest

from tradeline.devtools.stripe_sim import StripeSim
from tradeline.payments.stripe_gateway import verify_webhook
from tradeline.testing.stripe import StripeSimError

META = {"order_id": "7", "order_number": "TLM-2611-ABCDEF", "broker_id": "3"}


def _session(stripe_sim, amount=10_000) -> dict:
    return stripe_sim.create_checkout_session(unit_amount=amount, name="Chase tradeline, $10,000.00 limit",
                                              description="Authorized-user tradeline",
                                              metadata=META, intent_metadata=META)


@pytest.fixture
def hooked(stripe_sim, webhook_receiver):
    stripe_sim.set_webhook_url(webhook_receiver.url)
    return stripe_sim


def _verified(receiver) -> list[dict]:
    """Every delivery checked with our own verifier (the fixture set STRIPE_WEBHOOK_SECRET to the server's)."""
    return [verify_webhook(r["body"], r["headers"]["Stripe-Signature"]) for r in receiver.requests]


def test_pay_sends_stripes_events_signed(hooked, webhook_receiver):
    session = _session(hooked)
    paid = hooked.pay(session["id"], name="Jane Doe", phone="+15550001111")
    events = _verified(webhook_receiver)
    assert [e["type"] for e in events] == ["charge.succeeded", "payment_intent.succeeded",
                                           "checkout.session.completed"]
    for event in events:
        assert event["object"] == "event" and event["id"].startswith("evt_")
        assert event["livemode"] is False and event["api_version"]
        assert abs(event["created"] - time.time()) < 5
    charge, pi, completed = (e["data"]["object"] for e in events)
    assert (completed["status"], completed["payment_status"], completed["amount_total"]) == ("complete", "paid", 10_000)
    assert completed["metadata"] == META
    assert completed["customer_details"]["name"] == "Jane Doe"
    assert completed["customer_details"]["email"] == "buyer@example.com"
    assert completed["customer_details"]["phone"] == "+15550001111"
    assert completed["payment_intent"] == pi["id"] == charge["payment_intent"]
    assert (pi["status"], pi["amount_received"], pi["latest_charge"], pi["metadata"]) == (
        "succeeded", 10_000, charge["id"], META)
    assert (charge["status"], charge["paid"], charge["amount"], charge["metadata"]) == (
        "succeeded", True, 10_000, META)
    assert charge["id"].startswith("ch_")
    assert paid == completed
    header = webhook_receiver.requests[0]["headers"]["Stripe-Signature"]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    assert webhook_receiver.requests[0]["body"].startswith(b"{\n  ")  # Stripe's pretty-printed JSON
    assert [d["status"] for r in hooked.event_records() for d in r["deliveries"]] == [200, 200, 200]


def test_paid_session_cannot_be_paid_or_expired_again(hooked, webhook_receiver):
    session = _session(hooked)
    hooked.pay(session["id"])
    for action in (hooked.pay, hooked.decline, hooked.expire):
        with pytest.raises(StripeSimError) as info:
            action(session["id"])
        assert info.value.status == 400
    assert len(webhook_receiver.requests) == 3


def test_delayed_payment_completes_unpaid_then_succeeds(hooked, webhook_receiver):
    session = _session(hooked)
    first = hooked.pay_delayed(session["id"], succeed=None)
    assert (first["status"], first["payment_status"]) == ("complete", "unpaid")
    assert [e["type"] for e in _verified(webhook_receiver)] == [
        "charge.pending", "payment_intent.processing", "checkout.session.completed"]
    settled = hooked.settle(session["id"], succeed=True)
    events = _verified(webhook_receiver)[3:]
    assert [e["type"] for e in events] == ["charge.succeeded", "payment_intent.succeeded",
                                           "checkout.session.async_payment_succeeded"]
    assert settled["payment_status"] == "paid" == events[2]["data"]["object"]["payment_status"]
    with pytest.raises(StripeSimError):
        hooked.settle(session["id"], succeed=False)


def test_delayed_payment_can_fail(hooked, webhook_receiver):
    session = _session(hooked)
    final = hooked.pay_delayed(session["id"], succeed=False)
    types = [e["type"] for e in _verified(webhook_receiver)]
    assert types[-3:] == ["charge.failed", "payment_intent.payment_failed", "checkout.session.async_payment_failed"]
    assert (final["status"], final["payment_status"]) == ("complete", "unpaid")
    assert hooked.payment_intent(final["payment_intent"])["status"] == "requires_payment_method"


def test_decline_keeps_the_session_open_for_a_retry(hooked, webhook_receiver):
    session = _session(hooked)
    declined = hooked.decline(session["id"])
    assert (declined["status"], declined["payment_status"]) == ("open", "unpaid")
    events = _verified(webhook_receiver)
    assert [e["type"] for e in events] == ["charge.failed", "payment_intent.payment_failed"]
    error = events[1]["data"]["object"]["last_payment_error"]
    assert (error["code"], error["decline_code"]) == ("card_declined", "generic_decline")
    assert hooked.pay(session["id"])["payment_status"] == "paid"


def test_cancel_sends_nothing_and_returns_the_cancel_url(hooked, webhook_receiver):
    session = _session(hooked)
    assert hooked.cancel(session["id"]) == "https://shop.example.com/cart"
    assert webhook_receiver.requests == [] and hooked.events() == []
    assert hooked.session(session["id"])["status"] == "open"


def test_expire_sends_expired(hooked, webhook_receiver):
    session = _session(hooked)
    expired = hooked.expire(session["id"])
    assert expired["status"] == "expired"
    # Never confirmed: no PaymentIntent exists, so none is canceled (API 2022-08-01).
    assert [e["type"] for e in _verified(webhook_receiver)] == ["checkout.session.expired"]


def test_refunds_are_cumulative_on_the_charge(hooked, webhook_receiver):
    session = _session(hooked, amount=10_000)
    pi = hooked.pay(session["id"])["payment_intent"]
    charge_id = hooked.payment_intent(pi)["latest_charge"]
    first = hooked.refund(pi, 2_500)
    second = hooked.refund(charge_id, 1_500)
    refunded = [e["data"]["object"] for e in _verified(webhook_receiver) if e["type"] == "charge.refunded"]
    assert [(c["amount_refunded"], c["refunded"]) for c in refunded] == [(2_500, False), (4_000, False)]
    assert all("refunds" not in c for c in refunded)  # not included unless expanded (API 2022-11-15)
    listed = hooked._http.get(f"/v1/charges/{charge_id}", params={"expand[]": "refunds"},
                              headers={"Authorization": f"Bearer {hooked.secret_key}"}).json()["refunds"]
    assert [r["id"] for r in listed["data"]] == [second["id"], first["id"]]
    with pytest.raises(StripeSimError) as info:
        hooked.refund(pi, 6_001)
    assert info.value.code == "amount_too_large"
    rest = hooked.refund(pi)  # no amount: what is left
    assert rest["amount"] == 6_000
    charge = hooked.charge(charge_id)
    assert (charge["amount_refunded"], charge["refunded"], "refunds" in charge) == (10_000, True, False)
    with pytest.raises(StripeSimError) as info:
        hooked.refund(pi, 1)
    assert info.value.code == "charge_already_refunded"
    assert len(hooked.events("charge.refunded")) == 3 and len(hooked.events("refund.created")) == 3


def test_dispute_opens_and_closes(hooked, webhook_receiver):
    session = _session(hooked)
    pi = hooked.pay(session["id"])["payment_intent"]
    charge_id = hooked.payment_intent(pi)["latest_charge"]
    dispute = hooked.dispute(charge_id)
    assert dispute["id"].startswith("dp_")
    assert (dispute["status"], dispute["amount"], dispute["charge"], dispute["payment_intent"]) == (
        "needs_response", 10_000, charge_id, pi)
    with pytest.raises(StripeSimError) as info:
        hooked.refund(pi, 100)  # a disputed charge cannot be refunded
    assert info.value.code == "charge_disputed"
    with pytest.raises(StripeSimError):
        hooked.dispute(charge_id)
    closed = hooked.close_dispute(dispute["id"], "lost")
    assert closed["status"] == "lost"
    events = [e for e in _verified(webhook_receiver) if e["type"].startswith("charge.dispute")]
    assert [(e["type"], e["data"]["object"]["status"]) for e in events] == [
        ("charge.dispute.created", "needs_response"), ("charge.dispute.closed", "lost")]
    with pytest.raises(StripeSimError):
        hooked.close_dispute(dispute["id"], "won")


def test_resend_signs_the_same_event_anew(hooked, webhook_receiver):
    session = _session(hooked)
    hooked.pay(session["id"])
    completed = hooked.last_event("checkout.session.completed")
    result = hooked.resend(completed["id"])
    assert (result["status"], result["mode"]) == (200, "resend")
    first, again = [r for r in webhook_receiver.requests if completed["id"].encode() in r["body"]]
    assert first["body"] == again["body"]
    assert verify_webhook(again["body"], again["headers"]["Stripe-Signature"])["id"] == completed["id"]
    assert [d["mode"] for d in hooked.deliveries(completed["id"])] == ["auto", "resend"]


def test_events_recorded_then_sent_in_a_chosen_order(hooked, webhook_receiver):
    session = _session(hooked)
    hooked.pay(session["id"], deliver=False)
    assert webhook_receiver.requests == []
    events = hooked.events()
    assert [d for e in events for d in hooked.deliveries(e["id"])] == []
    order = [events[2]["id"], events[0]["id"], events[1]["id"]]
    results = hooked.send_events(order)
    assert [r["status"] for r in results] == [200, 200, 200]
    assert [e["id"] for e in _verified(webhook_receiver)] == order


def test_same_event_delivered_concurrently(hooked, webhook_receiver):
    session = _session(hooked)
    hooked.pay(session["id"], deliver=False)
    event_id = hooked.last_event("checkout.session.completed")["id"]
    webhook_receiver.delay = 0.05  # keep the requests overlapping
    assert hooked.deliver_concurrently(event_id, 5) == [200] * 5
    assert [e["id"] for e in _verified(webhook_receiver)] == [event_id] * 5
    assert len(hooked.deliveries(event_id)) == 5


def test_failed_delivery_is_recorded_not_retried_in_tests(hooked, webhook_receiver):
    webhook_receiver.status = 500
    session = _session(hooked)
    hooked.expire(session["id"])
    records = hooked.event_records("checkout.session.expired")
    assert [(d["status"], d["attempt"]) for d in records[0]["deliveries"]] == [(500, 1)]
    time.sleep(0.2)
    assert len(webhook_receiver.requests) == 1


def test_without_a_webhook_url_events_are_only_recorded(stripe_sim):
    session = _session(stripe_sim)
    stripe_sim.pay(session["id"])
    records = stripe_sim.event_records()
    assert len(records) == 3
    assert all(r["deliveries"][0]["status"] is None for r in records)


def test_unreachable_webhook_url_is_recorded_as_an_error(stripe_sim):
    stripe_sim.set_webhook_url("http://127.0.0.1:9/webhook")
    session = _session(stripe_sim)
    stripe_sim.expire(session["id"])
    delivery = stripe_sim.deliveries(stripe_sim.last_event("checkout.session.expired")["id"])[0]
    assert delivery["status"] is None and "ConnectError" in delivery["error"]


def test_command_mode_retries_failed_deliveries_with_backoff(webhook_receiver):
    sim = StripeSim(secret_key="sk_test_retry_check_0001", webhook_secret="whsec_retry",
                    webhook_url=webhook_receiver.url, retry_delays=(0.05, 0.1)).start()
    try:
        webhook_receiver.statuses = [503, 502, 503]  # every attempt fails: 1 + 2 retries, then it stops
        session = sim.state.create_session({"mode": "payment", "line_items": [
            {"quantity": "1", "price_data": {"currency": "usd", "unit_amount": "500",
                                             "product_data": {"name": "x"}}}]}, sim.url)
        _, events = sim.state.expire(session["id"])
        sim.deliverer.deliver(events[-1])
        deadline = time.monotonic() + 3
        while len(sim.state.deliveries[events[-1]["id"]]) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
        attempts = sim.state.deliveries[events[-1]["id"]]
        assert [(d["attempt"], d["status"]) for d in attempts] == [(1, 503), (2, 502), (3, 503)]
    finally:
        sim.stop()


def test_sessions_past_their_expiry_are_expired_by_the_sweeper(webhook_receiver):
    sim = StripeSim(secret_key="sk_test_sweeper_check_01", webhook_secret="whsec_sweep",
                    webhook_url=webhook_receiver.url, expire_interval=0.05).start()
    try:
        session = sim.state.create_session({"mode": "payment", "line_items": [
            {"quantity": "1", "price_data": {"currency": "usd", "unit_amount": "500",
                                             "product_data": {"name": "x"}}}]}, sim.url)
        with sim.state.lock:
            sim.state.sessions[session["id"]]["expires_at"] = int(time.time()) - 1
        deadline = time.monotonic() + 3
        while sim.state.sessions[session["id"]]["status"] == "open" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sim.deliverer.wait_idle(3)
        assert sim.state.sessions[session["id"]]["status"] == "expired"
        assert [r["body"].count(b"checkout.session.expired") for r in webhook_receiver.requests] == [1]
    finally:
        sim.stop()


def test_reset_forgets_everything(hooked):
    session = _session(hooked)
    hooked.pay(session["id"])
    hooked.reset()
    assert hooked.events() == []
    with pytest.raises(StripeSimError) as info:
        hooked.session(session["id"])
    assert info.value.status == 404


def test_live_keys_are_refused():
    with pytest.raises(ValueError):
        StripeSim(secret_key="sk_live_123456789012", webhook_secret="whsec_x")
