"""The supplier simulator over real HTTP: WooCommerce auth, orders, search semantics, faults, control."""

import base64
import time

import httpx
import pytest
from authlib.oauth1 import SIGNATURE_TYPE_HEADER, SIGNATURE_TYPE_QUERY, ClientAuth

from tradeline.devtools.supplier_sim import Faults, SupplierSimulator
from tradeline.devtools.supplier_sim.catalog import generate, render


@pytest.fixture
def sim():
    simulator = SupplierSimulator(consumer_key="ck_test", consumer_secret="cs_test", catalog_size=12, seed=3,
                                  bad_rows=1).start()
    simulator.http = httpx.Client(verify=False)  # plain HTTP: skip building a TLS context
    yield simulator
    simulator.http.close()
    simulator.stop()


def _signed(method: str, url: str, *, key="ck_test", secret="cs_test", kind=SIGNATURE_TYPE_QUERY, nonce=None,
            timestamp=None) -> tuple[str, dict]:
    signer = ClientAuth(key, secret, signature_type=kind)
    if nonce or timestamp:
        signer.get_oauth_params = _fixed_params(signer, nonce, timestamp)
    signed_url, headers, _ = signer.sign(method, url, {}, None)
    return signed_url, headers


def _fixed_params(signer, nonce, timestamp):
    original = signer.get_oauth_params

    def params(nonce_=None, timestamp_=None):
        return original(nonce or nonce_, str(timestamp) if timestamp else timestamp_)

    return params


def _basic(key="ck_test", secret="cs_test") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


def _order(email="jane@example.com", card_id="10001", quantity=1, platform_id="ord-1") -> dict:
    return {"payment_method": "x", "set_paid": True,
            "billing": {"first_name": "Jane", "last_name": "Doe", "email": email, "phone": "555"},
            "line_items": [{"product_id": int(card_id), "quantity": quantity}],
            "meta_data": [{"key": "platform_order_id", "value": platform_id}]}


def test_catalog_is_deterministic_and_at_least_fifty_rows():
    assert [render(t) for t in generate(60, 1)] == [render(t) for t in generate(60, 1)]
    assert [render(t) for t in generate(60, 1)] != [render(t) for t in generate(60, 2)]
    assert len({t.card_id for t in generate(60, 1)}) == 60


def test_oauth_query_signature_is_accepted(sim):
    url, _ = _signed("GET", f"{sim.url}/pricing")
    response = sim.http.get(url)
    assert response.status_code == 200
    assert len(response.json()) == 13  # 12 tradelines + 1 unreadable row


def test_oauth_header_signature_is_accepted(sim):
    url, headers = _signed("GET", f"{sim.url}/pricing", kind=SIGNATURE_TYPE_HEADER)
    assert sim.http.get(url, headers=headers).status_code == 200


def test_basic_auth_is_accepted_and_wrong_secret_refused(sim):
    assert sim.http.get(f"{sim.url}/pricing", headers=_basic()).status_code == 200
    response = sim.http.get(f"{sim.url}/pricing", headers=_basic(secret="nope"))
    assert response.status_code == 401
    assert response.json() == {"code": "woocommerce_rest_authentication_error",
                               "message": "Consumer key or secret is invalid.", "data": {"status": 401}}


def test_no_credentials_is_401(sim):
    response = sim.http.get(f"{sim.url}/pricing")
    assert response.status_code == 401
    assert response.json()["code"] == "woocommerce_rest_cannot_view"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"secret": "cs_wrong"}, "Invalid signature - provided signature does not match."),
    ({"key": "ck_other"}, "Consumer key is invalid."),
    ({"timestamp": -16 * 60}, "Invalid timestamp."),  # offsets from now, taken when the test runs
    ({"timestamp": 16 * 60}, "Invalid timestamp."),
])
def test_bad_oauth_is_refused(sim, kwargs, message):
    if "timestamp" in kwargs:
        kwargs = {**kwargs, "timestamp": int(time.time()) + kwargs["timestamp"]}
    url, _ = _signed("GET", f"{sim.url}/pricing", **kwargs)
    response = sim.http.get(url)
    assert response.status_code == 401
    assert response.json()["message"] == message


def test_timestamp_within_fifteen_minutes_is_fine(sim):
    url, _ = _signed("GET", f"{sim.url}/pricing", timestamp=int(time.time()) - 14 * 60)
    assert sim.http.get(url).status_code == 200


def test_nonce_is_single_use(sim):
    url, _ = _signed("GET", f"{sim.url}/pricing", nonce="n0nce-1")
    assert sim.http.get(url).status_code == 200
    replay = sim.http.get(url)
    assert replay.status_code == 401
    assert replay.json()["message"] == "Invalid nonce - nonce has already been used."


def test_tampered_query_breaks_the_signature(sim):
    url, _ = _signed("GET", f"{sim.url}/orders?search=a%40b.com")
    response = sim.http.get(url.replace("a%40b.com", "c%40d.com"))
    assert response.status_code == 401


def test_order_lowers_stock_and_is_readable(sim):
    before = sim.state.stock("10001")
    response = sim.http.post(f"{sim.url}/orders", json=_order(quantity=before), headers=_basic())
    assert response.status_code == 201
    order = response.json()
    assert (order["id"], order["status"], order["billing"]["email"]) == (5001, "processing", "jane@example.com")
    assert sim.state.stock("10001") == 0
    assert sim.http.get(f"{sim.url}/orders/5001", headers=_basic()).json()["id"] == 5001
    rows = sim.http.get(f"{sim.url}/pricing", headers=_basic()).json()
    row = next(r for r in rows if str(r["card_id"]) == "10001")
    assert row["stock"] in (0, "0", "Out of stock", "0 available", "Only 0 left", 0.0) or "0 in stock" in row["stock"]


@pytest.mark.parametrize(("payload", "code"), [
    ({"line_items": []}, "woocommerce_rest_required_line_items"),
    ({**_order(), "line_items": [{"product_id": 424242, "quantity": 1}]}, "woocommerce_rest_invalid_product_id"),
    ({**_order(), "line_items": [{"product_id": 10001, "quantity": 0}]}, "woocommerce_rest_invalid_quantity"),
    (_order(quantity=999), "woocommerce_rest_product_out_of_stock"),
    (_order(email="not-an-email"), "rest_invalid_param"),
])
def test_bad_orders_are_refused_and_change_nothing(sim, payload, code):
    before = sim.state.stock("10001")
    response = sim.http.post(f"{sim.url}/orders", json=payload, headers=_basic())
    assert response.status_code == 400
    assert response.json()["code"] == code and response.json()["data"]["status"] == 400
    assert sim.state.orders() == [] and sim.state.stock("10001") == before


def test_unknown_order_is_404(sim):
    response = sim.http.get(f"{sim.url}/orders/77", headers=_basic())
    assert response.status_code == 404
    assert response.json()["code"] == "woocommerce_rest_shop_order_invalid_id"


def test_search_covers_billing_fields_not_meta_and_paginates(sim):
    sim.state.set_stock("10001", 100)
    for n in range(7):
        sim.state.create_order(_order(email="pat@example.com", platform_id=f"ord-{n}"))
    sim.state.create_order(_order(email="other@example.com", platform_id="ord-x"))
    page = sim.http.get(f"{sim.url}/orders", params={"search": "PAT@example", "per_page": 3, "page": 3},
                     headers=_basic())
    assert (page.headers["X-WP-Total"], page.headers["X-WP-TotalPages"]) == ("7", "3")
    assert [o["id"] for o in page.json()] == [5001]  # newest first: the oldest is on the last page
    by_meta = sim.http.get(f"{sim.url}/orders", params={"search": "ord-3"}, headers=_basic())
    assert by_meta.json() == [] and by_meta.headers["X-WP-Total"] == "0"
    too_many = sim.http.get(f"{sim.url}/orders", params={"per_page": 101}, headers=_basic())
    assert too_many.status_code == 400


def test_faults_by_control_endpoint_for_n_requests(sim):
    response = sim.http.post(f"{sim.root}/_sim/faults", json={"status": 429, "retry_after": 3, "count": 2})
    assert response.status_code == 200
    answers = [sim.http.get(f"{sim.url}/pricing", headers=_basic()) for _ in range(3)]
    assert [r.status_code for r in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "3"
    assert answers[0].json()["code"] == "woocommerce_rest_too_many_requests"


def test_faults_until_cleared(sim):
    sim.http.post(f"{sim.root}/_sim/faults", json={"status": 500})
    assert [sim.http.get(f"{sim.url}/pricing", headers=_basic()).status_code for _ in range(3)] == [500] * 3
    sim.http.delete(f"{sim.root}/_sim/faults")
    assert sim.http.get(f"{sim.url}/pricing", headers=_basic()).status_code == 200


def test_malformed_and_latency_and_timeout_faults(sim):
    sim.state.set_faults(Faults(malformed=True, count=1))
    response = sim.http.get(f"{sim.url}/pricing", headers=_basic())
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    sim.state.set_faults(Faults(latency_ms=100, count=1))
    started = time.monotonic()
    assert sim.http.get(f"{sim.url}/pricing", headers=_basic()).status_code == 200
    assert time.monotonic() - started >= 0.1
    sim.state.set_faults(Faults(timeout=True, hang_seconds=5, count=1))
    with pytest.raises(httpx.ReadTimeout):
        sim.http.get(f"{sim.url}/pricing", headers=_basic(), timeout=0.2)


def test_faults_can_target_a_method(sim):
    sim.state.set_faults(Faults(status=503, methods=["POST"]))
    assert sim.http.get(f"{sim.url}/pricing", headers=_basic()).status_code == 200
    assert sim.http.post(f"{sim.url}/orders", json=_order(), headers=_basic()).status_code == 503
    assert sim.state.orders() == []


def test_bad_fault_config_is_refused(sim):
    response = sim.http.post(f"{sim.root}/_sim/faults", json={"status": 418})
    assert response.status_code == 400
    response = sim.http.post(f"{sim.root}/_sim/faults", json={"explode": True})
    assert response.status_code == 400


def test_reset_resizes_the_catalog_and_forgets_orders(sim):
    sim.http.post(f"{sim.url}/orders", json=_order(), headers=_basic())
    response = sim.http.post(f"{sim.root}/_sim/reset", json={"catalog_size": 500, "bad_rows": 0})
    assert response.json()["catalog_size"] == 500 and response.json()["orders"] == 0
    assert len(sim.http.get(f"{sim.url}/pricing", headers=_basic()).json()) == 500
    sim.http.post(f"{sim.root}/_sim/stock", json={"card_id": "10002", "stock": 42})
    assert sim.state.stock("10002") == 42
    assert sim.http.get(f"{sim.root}/_sim/orders").json() == []


def test_unknown_route_is_a_woocommerce_404(sim):
    response = sim.http.get(f"{sim.url}/products", headers=_basic())
    assert response.status_code == 404 and response.json()["code"] == "rest_no_route"
