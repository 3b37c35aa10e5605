"""The supplier simulator over real HTTP: WooCommerce auth, orders, search semantics, faults, control."""

import base64
import hashlib
import ssl
import time
from urllib.parse import urlencode

import httpx
import pytest
from authlib.oauth1 import SIGNATURE_TYPE_HEADER, SIGNATURE_TYPE_QUERY, ClientAuth

from tradeline.devtools.supplier_sim import Faults, SupplierSimulator
from tradeline.devtools.supplier_sim.catalog import generate, render
from tradeline.devtools.supplier_sim.server import oauth_signature
from tradeline.testing.tls import make_certificates


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def sim(tls):
    """Served over HTTPS, as a real store: HTTP Basic is accepted only there."""
    context, ca_path = tls
    simulator = SupplierSimulator(consumer_key="ck_test", consumer_secret="cs_test", catalog_size=12, seed=3,
                                  bad_rows=1, ssl_context=context).start()
    simulator.http = httpx.Client(verify=ssl.create_default_context(cafile=ca_path))
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
                               "message": "Consumer secret is invalid.", "data": {"status": 401}}


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
    ({**_order(), "line_items": [{"quantity": 1}]}, "woocommerce_rest_required_product_reference"),
    ({**_order(), "line_items": [{"product_id": "ten", "quantity": 1}]}, "rest_invalid_param"),
    ({**_order(), "line_items": {"product_id": 10001}}, "rest_invalid_param"),
    (_order(email="not-an-email"), "rest_invalid_param"),
])
def test_bad_orders_are_refused_and_change_nothing(sim, payload, code):
    before = sim.state.stock("10001")
    response = sim.http.post(f"{sim.url}/orders", json=payload, headers=_basic())
    assert response.status_code == 400
    assert response.json()["code"] == code and response.json()["data"]["status"] == 400
    assert sim.state.orders() == [] and sim.state.stock("10001") == before


def test_orders_are_created_as_a_real_store_creates_them(sim):
    """Unknown product: a product-less line with total 0; no stock check (stock goes negative);
    quantity-0 lines dropped; an empty order is created."""
    sim.state.set_stock("10001", 1)
    payload = {**_order(quantity=3), "line_items": [{"product_id": 10001, "quantity": 3},
                                                    {"product_id": 424242, "quantity": 1, "name": "Gone"},
                                                    {"product_id": 10002, "quantity": 0}]}
    response = sim.http.post(f"{sim.url}/orders", json=payload, headers=_basic())
    assert response.status_code == 201
    assert response.headers["Location"] == f"{sim.url}/orders/5001"
    order = response.json()
    known, gone = order["line_items"]
    assert (known["product_id"], known["quantity"], gone["product_id"], gone["name"], gone["total"]) == (
        10001, 3, 0, "Gone", "0.00")
    assert order["total"] == known["total"]
    assert sim.state.stock("10001") == -2
    empty = sim.http.post(f"{sim.url}/orders", json={**_order(), "line_items": []}, headers=_basic())
    assert (empty.status_code, empty.json()["line_items"], empty.json()["total"]) == (201, [], "0.00")


def test_order_json_has_woocommerce_documented_properties(sim):
    order = sim.http.post(f"{sim.url}/orders", json=_order(), headers=_basic()).json()
    assert set(WOO_ORDER_PROPERTIES) <= set(order)
    assert set(WOO_LINE_PROPERTIES) <= set(order["line_items"][0])
    assert set(order["billing"]) == {"first_name", "last_name", "company", "address_1", "address_2", "city",
                                     "state", "postcode", "country", "email", "phone"}
    assert order["order_key"].startswith("wc_order_") and order["date_paid_gmt"] and order["refunds"] == []


WOO_ORDER_PROPERTIES = (
    "id", "parent_id", "number", "order_key", "created_via", "version", "status", "currency", "date_created",
    "date_created_gmt", "date_modified", "date_modified_gmt", "discount_total", "discount_tax", "shipping_total",
    "shipping_tax", "cart_tax", "total", "total_tax", "prices_include_tax", "customer_id", "customer_ip_address",
    "customer_user_agent", "customer_note", "billing", "shipping", "payment_method", "payment_method_title",
    "transaction_id", "date_paid", "date_paid_gmt", "date_completed", "date_completed_gmt", "cart_hash",
    "meta_data", "line_items", "tax_lines", "shipping_lines", "fee_lines", "coupon_lines", "refunds")
WOO_LINE_PROPERTIES = ("id", "name", "product_id", "variation_id", "quantity", "tax_class", "subtotal",
                       "subtotal_tax", "total", "total_tax", "taxes", "meta_data", "sku", "price")


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
    # Not WooCommerce's answer but the web server's: an HTML page, no WooCommerce error code.
    assert answers[0].headers["Content-Type"] == "text/html"
    assert "429 Too Many Requests" in answers[0].text


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


# -- WooCommerce's authentication and routing ------------------------------------------------------


@pytest.fixture
def plain_sim():
    simulator = SupplierSimulator(consumer_key="ck_test", consumer_secret="cs_test", catalog_size=12, seed=3,
                                  bad_rows=1).start()
    simulator.http = httpx.Client(verify=False)
    yield simulator
    simulator.http.close()
    simulator.stop()


def test_basic_over_plain_http_is_ignored_like_no_credentials(plain_sim):
    listing = plain_sim.http.get(f"{plain_sim.url}/orders", headers=_basic())
    assert (listing.status_code, listing.json()["code"]) == (401, "woocommerce_rest_cannot_view")
    create = plain_sim.http.post(f"{plain_sim.url}/orders", json=_order(), headers=_basic())
    assert create.status_code == 401
    assert create.json() == {"code": "woocommerce_rest_cannot_create",
                             "message": "Sorry, you are not allowed to create resources.", "data": {"status": 401}}
    assert plain_sim.state.orders() == []


def test_hmac_sha256_signatures_are_accepted(plain_sim):
    params = [("oauth_consumer_key", "ck_test"), ("oauth_nonce", "n256"), ("oauth_signature_method", "HMAC-SHA256"),
              ("oauth_timestamp", str(int(time.time()))), ("oauth_version", "1.0")]
    base = f"{plain_sim.url}/pricing"
    signature = oauth_signature("GET", base, params, "cs_test", hashlib.sha256)
    ok = plain_sim.http.get(f"{base}?{urlencode(params + [('oauth_signature', signature)])}")
    assert ok.status_code == 200
    sha1 = oauth_signature("GET", base, [(k, v if k != "oauth_nonce" else "n1") for k, v in params], "cs_test")
    wrong = plain_sim.http.get(f"{base}?" + urlencode(
        [(k, v if k != "oauth_nonce" else "n1") for k, v in params] + [("oauth_signature", sha1)]))
    assert (wrong.status_code, wrong.json()["message"]) == (
        401, "Invalid signature - provided signature does not match.")


def test_a_missing_oauth_parameter_is_named(plain_sim):
    response = plain_sim.http.get(f"{plain_sim.url}/pricing", params={
        "oauth_consumer_key": "ck_test", "oauth_signature_method": "HMAC-SHA1", "oauth_signature": "x"})
    assert response.status_code == 401
    assert response.json() == {"code": "woocommerce_rest_authentication_missing_parameter",
                               "message": "Missing OAuth parameters oauth_timestamp, oauth_nonce",
                               "data": {"status": 401}}


def test_an_unknown_signature_method_is_refused(plain_sim):
    url, _ = _signed("GET", f"{plain_sim.url}/pricing")
    response = plain_sim.http.get(url.replace("HMAC-SHA1", "PLAINTEXT"))
    assert (response.status_code, response.json()["message"]) == (
        401, "Invalid signature - signature method is invalid.")


def test_a_non_numeric_order_id_matches_no_route(sim):
    response = sim.http.get(f"{sim.url}/orders/abc", headers=_basic())
    assert (response.status_code, response.json()["code"]) == (404, "rest_no_route")


def test_lists_carry_link_headers(sim):
    sim.state.set_stock("10001", 100)
    for n in range(5):
        sim.state.create_order(_order(platform_id=f"ord-{n}"))
    first = sim.http.get(f"{sim.url}/orders", params={"per_page": 2}, headers=_basic())
    assert first.headers["Link"] == f'<{sim.url}/orders?per_page=2&page=2>; rel="next"'
    middle = sim.http.get(f"{sim.url}/orders", params={"per_page": 2, "page": 2}, headers=_basic())
    assert middle.headers["Link"] == (f'<{sim.url}/orders?per_page=2&page=1>; rel="prev", '
                                      f'<{sim.url}/orders?per_page=2&page=3>; rel="next"')
    last = sim.http.get(f"{sim.url}/orders", params={"per_page": 2, "page": 3}, headers=_basic())
    assert last.headers["Link"] == f'<{sim.url}/orders?per_page=2&page=2>; rel="prev"'
    assert (last.headers["X-WP-Total"], last.headers["X-WP-TotalPages"]) == ("5", "3")
