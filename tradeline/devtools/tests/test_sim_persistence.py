"""Both simulators keep their world in SQLite when given a state file: a restart continues where it
stopped (no supplier order id handed out twice, old Checkout Sessions still found)."""

import httpx
import pytest

from tradeline.devtools.simstore import DEMO_STATE_FILES, demo_state_path, forget_demo_world
from tradeline.devtools.stripe_sim import StripeSim
from tradeline.devtools.supplier_sim import SupplierSimulator
from tradeline.devtools.tests.test_stripe_sim_api import SESSION_FORM

KEY, SECRET = "sk_test_persisted_world_01", "whsec_persisted"


def _order(platform_id: str) -> dict:
    return {"set_paid": True, "billing": {"email": "pat@example.com"},
            "line_items": [{"product_id": 10001, "quantity": 1}],
            "meta_data": [{"key": "platform_order_id", "value": platform_id}]}


def test_supplier_simulator_continues_after_a_restart(tmp_path):
    path = tmp_path / "supplier.sqlite3"
    first = SupplierSimulator(consumer_key="ck", consumer_secret="cs", catalog_size=5, state_path=path).start()
    stock = first.state.stock("10001")
    assert [first.state.create_order(_order(f"ord-{n}"))[1]["id"] for n in range(2)] == [5001, 5002]
    first.state.set_price("10002", 12_345)
    first.stop()

    second = SupplierSimulator(consumer_key="ck", consumer_secret="cs", catalog_size=5, state_path=path).start()
    try:
        assert [o["id"] for o in second.state.orders()] == [5001, 5002]
        assert second.state.get_order("5002")["meta_data"][0]["value"] == "ord-1"
        assert second.state.stock("10001") == stock - 2
        assert second.state.tradelines["10002"].price_cents == 12_345
        assert second.state.create_order(_order("ord-2"))[1]["id"] == 5003  # never an id handed out before
        second.state.reset()
    finally:
        second.stop()
    third = SupplierSimulator(consumer_key="ck", consumer_secret="cs", catalog_size=5, state_path=path)
    try:
        assert third.state.orders() == [] and third.state.create_order(_order("x"))[1]["id"] == 5001
    finally:
        third.httpd.server_close()
        third.store.close()


def test_local_stripe_continues_after_a_restart(tmp_path):
    path = tmp_path / "stripe.sqlite3"
    headers = {"Authorization": f"Bearer {KEY}", "Idempotency-Key": "checkout-order-1"}
    first = StripeSim(secret_key=KEY, webhook_secret=SECRET, state_path=path).start()
    with httpx.Client(base_url=first.url, timeout=10) as http:
        session = http.post("/v1/checkout/sessions", data=SESSION_FORM, headers=headers).json()
        paid = http.post(f"/_sim/sessions/{session['id']}/pay", json={}).json()["object"]
        http.post("/v1/refunds", data={"payment_intent": paid["payment_intent"], "amount": "500"},
                  headers={"Authorization": f"Bearer {KEY}"})
    event_ids = [e["id"] for e in first.state.events]
    first.stop()

    second = StripeSim(secret_key=KEY, webhook_secret=SECRET, state_path=path).start()
    try:
        with httpx.Client(base_url=second.url, timeout=10) as http:
            found = http.get(f"/v1/checkout/sessions/{session['id']}", params={"expand[]": "payment_intent"},
                             headers={"Authorization": f"Bearer {KEY}"}).json()
            assert (found["status"], found["payment_intent"]["amount_received"]) == ("complete", 25_999)
            charge = http.get(f"/v1/charges/{found['payment_intent']['latest_charge']}",
                              headers={"Authorization": f"Bearer {KEY}"}).json()
            assert charge["amount_refunded"] == 500
            replay = http.post("/v1/checkout/sessions", data=SESSION_FORM, headers=headers)
            assert (replay.json()["id"], replay.headers.get("Idempotent-Replayed")) == (session["id"], "true")
            listed = http.get("/v1/events", params={"limit": 100}, headers={"Authorization": f"Bearer {KEY}"})
            assert [e["id"] for e in listed.json()["data"]] == event_ids[::-1]
    finally:
        second.stop()


def test_fresh_forgets_both_saved_worlds(tmp_path):
    for name in DEMO_STATE_FILES:
        demo_state_path(tmp_path, name).write_bytes(b"x")
    (tmp_path / "stripe_sim.sqlite3-wal").write_bytes(b"x")
    assert sorted(forget_demo_world(tmp_path)) == ["stripe_sim.sqlite3", "supplier_sim.sqlite3"]
    assert list(tmp_path.iterdir()) == []
    assert forget_demo_world(tmp_path) == []


@pytest.mark.django_db
def test_run_demo_knows_the_fresh_flag():
    from django.core.management import load_command_class

    parser = load_command_class("tradeline.devtools", "run_demo").create_parser("tradeline", "run_demo")
    assert parser.parse_args(["--fresh"]).fresh is True
    assert parser.parse_args([]).fresh is False
