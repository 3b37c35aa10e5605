"""The local Stripe server's API: wire format, auth, errors, idempotency, faults (raw HTTP)."""

import base64
import threading

import httpx
import pytest

from tradeline.devtools.stripe_sim.errors import SimError
from tradeline.devtools.stripe_sim.forms import parse_params

SESSION_FORM = {
    "mode": "payment",
    "line_items[0][quantity]": "2",
    "line_items[0][price_data][currency]": "usd",
    "line_items[0][price_data][unit_amount]": "12500",
    "line_items[0][price_data][product_data][name]": "Chase tradeline, $10,000.00 limit",
    "line_items[1][quantity]": "1",
    "line_items[1][price_data][currency]": "usd",
    "line_items[1][price_data][unit_amount]": "999",
    "line_items[1][price_data][product_data][name]": "Amex tradeline",
    "customer_email": "buyer@example.com",
    "success_url": "https://shop.example.com/ok",
    "cancel_url": "https://shop.example.com/cancel",
    "metadata[order_id]": "42",
    "payment_intent_data[metadata][order_id]": "42",
}


@pytest.fixture(scope="session")
def _api_client(stripe_sim_server):
    with httpx.Client(base_url=stripe_sim_server.url, timeout=10,
                      headers={"Authorization": f"Bearer {stripe_sim_server.secret_key}"}) as client:
        yield client


@pytest.fixture
def api(stripe_sim, _api_client):
    """Raw HTTP to the local Stripe server with the right key (one pooled client for the session)."""
    return _api_client


def test_form_params_are_nested_like_stripe():
    params = parse_params("a=1&line_items[0][price_data][unit_amount]=5&line_items[1][quantity]=2"
                          "&metadata[k]=v&expand[]=x&expand[]=y&empty=")
    assert params == {"a": "1", "line_items": [{"price_data": {"unit_amount": "5"}}, {"quantity": "2"}],
                      "metadata": {"k": "v"}, "expand": ["x", "y"], "empty": ""}


@pytest.mark.parametrize("query", ["a[0]=1&a[2]=2", "a[b=1", "[x]=1", "a=1&a[b]=2", "a[]=1&a[b]=2"])
def test_malformed_form_params_are_400(query):
    with pytest.raises(SimError) as info:
        parse_params(query)
    assert info.value.status == 400


def test_create_session_from_form_encoded_params(api, stripe_sim):
    response = api.post("/v1/checkout/sessions", data=SESSION_FORM)
    assert response.status_code == 200
    session = response.json()
    assert session["object"] == "checkout.session"
    assert session["id"].startswith("cs_test_")
    assert session["amount_total"] == session["amount_subtotal"] == 2 * 12500 + 999
    assert (session["status"], session["payment_status"], session["livemode"]) == ("open", "unpaid", False)
    assert session["url"] == f"{stripe_sim.url}/checkout/{session['id']}"
    assert session["payment_intent"] is None  # no PaymentIntent until the session is confirmed
    assert session["metadata"] == {"order_id": "42"}
    assert session["customer_details"] is None
    assert response.headers["Request-Id"].startswith("req_")
    paid = stripe_sim.pay(session["id"], deliver=False)
    assert paid["payment_intent"].startswith("pi_")
    pi = api.get(f"/v1/payment_intents/{paid['payment_intent']}").json()
    assert (pi["object"], pi["amount"], pi["status"], pi["metadata"]) == (
        "payment_intent", 25999, "succeeded", {"order_id": "42"})
    items = api.get(f"/v1/checkout/sessions/{session['id']}/line_items").json()
    assert items["object"] == "list"
    assert [(i["quantity"], i["price"]["unit_amount"], i["amount_total"]) for i in items["data"]] == [
        (2, 12500, 25000), (1, 999, 999)]
    expanded = api.get(f"/v1/checkout/sessions/{session['id']}",
                       params={"expand[]": ["line_items", "payment_intent"]}).json()
    assert expanded["line_items"]["data"][1]["description"] == "Amex tradeline"
    assert expanded["payment_intent"]["id"] == paid["payment_intent"]


def test_missing_key_is_401(api, stripe_sim):
    response = api.post("/v1/checkout/sessions", data=SESSION_FORM, headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "did not provide an API key" in response.json()["error"]["message"]
    assert stripe_sim.server.state.sessions == {}


def test_wrong_key_is_401_and_masked(api):
    response = api.get("/v1/charges/ch_1", headers={"Authorization": "Bearer sk_test_wrongwrongwrong9876"})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "api_key_invalid"
    assert "wrongwrong" not in error["message"] and error["message"].endswith("9876")


def test_basic_auth_like_curl_u(api, stripe_sim):
    token = base64.b64encode(f"{stripe_sim.secret_key}:".encode()).decode()
    response = api.post("/v1/checkout/sessions", data=SESSION_FORM, headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 200


def test_unknown_objects_and_urls_are_404(api):
    error = api.get("/v1/payment_intents/pi_nope").json()["error"]
    assert error == {"type": "invalid_request_error", "code": "resource_missing",
                     "message": "No such payment_intent: 'pi_nope'", "param": "id"}
    assert api.get("/v1/checkout/sessions/cs_test_nope").status_code == 404
    response = api.get("/v1/customers")
    assert response.status_code == 404
    assert "Unrecognized request URL" in response.json()["error"]["message"]


@pytest.mark.parametrize(("change", "param", "code"), [
    ({"mode": None}, "mode", "parameter_missing"),
    ({"mode": "subscription"}, "mode", "parameter_invalid_string"),
    ({"line_items[0][price_data][unit_amount]": "-1"}, "line_items[0][price_data][unit_amount]",
     "parameter_invalid_integer"),
    ({"line_items[0][price_data][unit_amount]": "12.50"}, "line_items[0][price_data][unit_amount]",
     "parameter_invalid_integer"),
    ({"line_items[0][quantity]": "0"}, "line_items[0][quantity]", "parameter_invalid_integer"),
    ({"line_items[1][price_data][currency]": "eur"}, "line_items", None),
    ({"line_items[0][price_data][product_data][name]": None}, "line_items[0][price_data][product_data][name]",
     "parameter_missing"),
    ({"customer_email": "not-an-email"}, "customer_email", "email_invalid"),
    ({"success_url": "javascript:alert(1)"}, "success_url", "url_invalid"),
    ({"expires_at": "1"}, "expires_at", "parameter_invalid_integer"),
])
def test_invalid_session_params_are_400(api, stripe_sim, change, param, code):
    form = {**SESSION_FORM, **change}
    form = {k: v for k, v in form.items() if v is not None}
    response = api.post("/v1/checkout/sessions", data=form)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["param"], error.get("code")) == ("invalid_request_error", param, code)
    assert stripe_sim.server.state.sessions == {}


def test_total_below_stripe_minimum_is_400(api):
    form = {k: v for k, v in SESSION_FORM.items() if not k.startswith("line_items[1]")}
    form["line_items[0][price_data][unit_amount]"] = "20"
    assert api.post("/v1/checkout/sessions", data=form).json()["error"]["code"] == "amount_too_small"


def test_json_body_is_refused(api):
    response = api.post("/v1/checkout/sessions", json={"mode": "payment"})
    assert response.status_code == 400
    assert "form-encoded" in response.json()["error"]["message"]


def test_idempotency_key_replays_the_same_response(api, stripe_sim):
    first = api.post("/v1/checkout/sessions", data=SESSION_FORM, headers={"Idempotency-Key": "order-1"})
    second = api.post("/v1/checkout/sessions", data=SESSION_FORM, headers={"Idempotency-Key": "order-1"})
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert len(stripe_sim.server.state.sessions) == 1


def test_idempotency_key_with_other_params_is_400(api, stripe_sim):
    api.post("/v1/checkout/sessions", data=SESSION_FORM, headers={"Idempotency-Key": "order-2"})
    changed = {**SESSION_FORM, "line_items[0][quantity]": "3"}
    response = api.post("/v1/checkout/sessions", data=changed, headers={"Idempotency-Key": "order-2"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "idempotency_error"
    assert len(stripe_sim.server.state.sessions) == 1


def test_failed_validation_is_not_remembered_by_the_key(api, stripe_sim):
    bad = {**SESSION_FORM, "customer_email": "nope"}
    assert api.post("/v1/checkout/sessions", data=bad, headers={"Idempotency-Key": "k"}).status_code == 400
    response = api.post("/v1/checkout/sessions", data=bad, headers={"Idempotency-Key": "k"})
    assert response.status_code == 400 and "Idempotent-Replayed" not in response.headers


def test_concurrent_requests_with_one_key_create_one_session(api, stripe_sim):
    results = []

    def post():
        response = api.post("/v1/checkout/sessions", data=SESSION_FORM, headers={"Idempotency-Key": "same"})
        results.append(response.json()["id"])

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and len(set(results)) == 1
    assert list(stripe_sim.server.state.sessions) == results[:1]


def test_fault_injection_for_the_next_calls(api, stripe_sim):
    stripe_sim.set_faults(status=500, count=2)
    assert api.post("/v1/checkout/sessions", data=SESSION_FORM).status_code == 500
    response = api.post("/v1/checkout/sessions", data=SESSION_FORM)
    assert response.status_code == 500
    assert response.json()["error"]["type"] == "api_error"
    assert api.post("/v1/checkout/sessions", data=SESSION_FORM).status_code == 200
    assert len(stripe_sim.server.state.sessions) == 1


def test_fault_limited_to_a_path_and_slow_responses(api, stripe_sim):
    stripe_sim.set_faults(status=503, path="/v1/refunds")
    stripe_sim.set_faults(delay_ms=150, path="/v1/checkout")
    response = api.post("/v1/checkout/sessions", data=SESSION_FORM)
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.15
    assert api.post("/v1/refunds", data={"charge": "ch_x"}).status_code == 503
    stripe_sim.clear_faults()
    assert api.post("/v1/refunds", data={"charge": "ch_x"}).status_code == 404


def test_expire_only_open_sessions(api, stripe_sim):
    session = api.post("/v1/checkout/sessions", data=SESSION_FORM).json()
    expired = api.post(f"/v1/checkout/sessions/{session['id']}/expire").json()
    assert (expired["status"], expired["url"]) == ("expired", None)
    again = api.post(f"/v1/checkout/sessions/{session['id']}/expire")
    assert again.status_code == 400
    assert "can be expired" in again.json()["error"]["message"]
    assert expired["payment_intent"] is None  # never confirmed: there is no PaymentIntent to cancel
    declined = api.post("/v1/checkout/sessions", data=SESSION_FORM).json()
    intent = stripe_sim.decline(declined["id"], deliver=False)["payment_intent"]
    api.post(f"/v1/checkout/sessions/{declined['id']}/expire")
    assert api.get(f"/v1/payment_intents/{intent}").json()["status"] == "canceled"


def test_payment_link_and_refund_list(api, stripe_sim):
    link_form = {k: v for k, v in SESSION_FORM.items() if k.startswith(("line_items", "metadata"))}
    link = api.post("/v1/payment_links", data=link_form).json()
    assert (link["object"], link["active"], link["url"]) == (
        "payment_link", True, f"{stripe_sim.url}/pay/{link['id']}")
    assert link["id"].startswith("plink_")
    assert api.get(f"/v1/payment_links/{link['id']}").json()["metadata"] == {"order_id": "42"}
    listing = api.get("/v1/refunds", params={"charge": "ch_none"}).json()
    assert listing == {"object": "list", "data": [], "has_more": False, "url": "/v1/refunds"}


def test_refunds_list_paginates(api, stripe_sim):
    session = api.post("/v1/checkout/sessions", data=SESSION_FORM).json()
    intent = stripe_sim.pay(session["id"], deliver=False)["payment_intent"]
    charge_id = stripe_sim.payment_intent(intent)["latest_charge"]
    ids = [api.post("/v1/refunds", data={"charge": charge_id, "amount": "100"}).json()["id"] for _ in range(3)]
    page1 = api.get("/v1/refunds", params={"charge": charge_id, "limit": 2}).json()
    assert [r["id"] for r in page1["data"]] == ids[::-1][:2] and page1["has_more"] is True
    page2 = api.get("/v1/refunds", params={"charge": charge_id, "limit": 2, "starting_after": ids[1]}).json()
    assert [r["id"] for r in page2["data"]] == [ids[0]] and page2["has_more"] is False
