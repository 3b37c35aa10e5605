"""The supplier client against the simulator over real HTTP, including every fault mode."""

import time

import httpx
import pytest

from tradeline.catalog.supplier.checks import order_mismatches
from tradeline.catalog.supplier.client import SupplierClient, SupplierOrder
from tradeline.catalog.supplier.errors import (
    SupplierAuthError,
    SupplierNotConfigured,
    SupplierNotFound,
    SupplierOrderMismatch,
    SupplierRateLimited,
    SupplierRejected,
    SupplierUnavailable,
)

ORDER = dict(order_number="TLM-2611-7Q4K9X", customer_email="jane@example.com", first_name="Jane",
             last_name="Doe", phone="+1 555 0100")


def _gets(sim, path="/pricing"):
    return [r for r in sim.requests() if r["method"] == "GET" and r["path"] == path]


def test_get_pricing_over_oauth1(supplier_sim):
    with supplier_sim.client() as client:
        rows = client.get_pricing()
    assert len(rows) == 62  # 60 tradelines + 2 unreadable rows
    assert {"card_id", "bank_name", "credit_limit", "price", "stock", "image"} <= set(rows[0])


def test_create_get_and_find_order(supplier_sim):
    card_id = supplier_sim.card_ids()[0]
    stock_before = supplier_sim.stock(card_id)
    with supplier_sim.client() as client:
        created = client.create_order(platform_order_id="ord-1", items=[(card_id, 1)], **ORDER)
        assert created == SupplierOrder(id="5001", status="processing", platform_order_id="ord-1")
        assert client.get_order("5001") == created
        assert client.find_order_for(platform_order_id="ord-1", customer_email="jane@example.com") == created
        assert client.find_order_for(platform_order_id="ord-2", customer_email="jane@example.com") is None
    assert supplier_sim.stock(card_id) == stock_before - 1
    [order] = supplier_sim.orders()
    assert order["billing"]["email"] == "jane@example.com"
    assert order["line_items"][0]["product_id"] == int(card_id)
    assert {"key": "platform_order_id", "value": "ord-1"} in [
        {"key": m["key"], "value": m["value"]} for m in order["meta_data"]]


def test_find_order_walks_every_page_and_matches_meta(supplier_sim):
    card_id = supplier_sim.card_ids()[0]
    supplier_sim.set_stock(card_id, 500)
    for n in range(120):  # 3 pages of 50; ours is the oldest, so on the last page
        supplier_sim.state.create_order({
            "set_paid": True, "billing": {"email": "repeat@example.com"},
            "line_items": [{"product_id": int(card_id), "quantity": 1}],
            "meta_data": [{"key": "platform_order_id", "value": f"ord-{n}"}],
        })
    with supplier_sim.client() as client:
        found = client.find_order_for(platform_order_id="ord-0", customer_email="repeat@example.com")
        assert found is not None and found.id == "5001"
        # Search covers billing fields, never meta data: our id is not searchable.
        assert client.find_order_for(platform_order_id="ord-0", customer_email="ord-0") is None
    searches = [r for r in supplier_sim.requests() if r["path"] == "/orders" and r["method"] == "GET"]
    assert len(searches) == 3 + 1


def test_bad_credentials_are_an_auth_error_not_retried(supplier_sim):
    with supplier_sim.client(consumer_secret="wrong") as client, pytest.raises(SupplierAuthError) as exc:
        client.get_pricing()
    assert exc.value.retryable is False
    assert exc.value.supplier_code == "woocommerce_rest_authentication_error"
    assert len(_gets(supplier_sim)) == 1


def test_unknown_order_is_not_found(supplier_sim):
    with supplier_sim.client() as client, pytest.raises(SupplierNotFound) as exc:
        client.get_order("999999")
    assert (exc.value.http_status, exc.value.supplier_code, exc.value.retryable) == (
        404, "woocommerce_rest_shop_order_invalid_id", False)


def test_rejected_order_carries_the_supplier_message(supplier_sim):
    with supplier_sim.client() as client, pytest.raises(SupplierRejected) as exc:
        client._send("POST", "/orders", json={"line_items": [{"quantity": 1}]})
    assert exc.value.supplier_code == "woocommerce_rest_required_product_reference"
    assert exc.value.retryable is False
    assert exc.value.details["supplier_message"] == "Product ID or SKU is required."
    assert supplier_sim.orders() == []


def test_an_order_created_without_our_product_is_a_mismatch(supplier_sim):
    card_id = supplier_sim.card_ids()[0]
    supplier_sim.state.remove_tradeline(card_id)
    with supplier_sim.client() as client, pytest.raises(SupplierOrderMismatch) as exc:
        client.create_order(platform_order_id="ord-1", items=[(card_id, 2)], **ORDER)
    assert (exc.value.code, exc.value.supplier_code, exc.value.retryable) == (
        "SUPPLIER_REJECTED", "order_mismatch", False)
    assert exc.value.details["supplier_order_id"] == "5001"
    assert exc.value.details["problems"] == [
        "line 1 has no product (the product does not exist at the supplier)",
        f"product {card_id}: quantity 0 at the supplier, 2 ordered"]
    assert len(supplier_sim.orders()) == 1


def test_an_empty_order_is_never_sent(supplier_sim):
    with supplier_sim.client() as client, pytest.raises(SupplierOrderMismatch):
        client.create_order(platform_order_id="ord-1", items=[], **ORDER)
    assert supplier_sim.orders() == [] and _gets(supplier_sim, "/orders") == []


def test_no_stock_check_at_the_supplier(supplier_sim):
    card_id = supplier_sim.card_ids()[0]
    supplier_sim.set_stock(card_id, 1)
    with supplier_sim.client() as client:
        placed = client.create_order(platform_order_id="ord-1", items=[(card_id, 2)], **ORDER)
    assert placed.id == "5001" and supplier_sim.stock(card_id) == -1


@pytest.mark.parametrize(("change", "problem"), [
    (lambda o: o["line_items"][0].update(quantity=3), "product 10001: quantity 3 at the supplier, 1 ordered"),
    (lambda o: o.update(meta_data=[]), "meta_data platform_order_id is not ord-1"),
    (lambda o: o.update(total="1.00"), "order total 1.00 is not the sum of its lines"),
    (lambda o: o["line_items"][0].update(total="0.00"), "product 10001: line total '0.00' is not a positive amount"),
    (lambda o: o.update(line_items=[]), "the order has no lines"),
])
def test_each_difference_from_what_we_ordered_is_named(change, problem):
    order = {"id": 5001, "total": "250.00", "total_tax": "0.00", "shipping_total": "0.00", "discount_total": "0.00",
             "line_items": [{"id": 1, "product_id": 10001, "quantity": 1, "total": "250.00"}],
             "meta_data": [{"id": 1, "key": "platform_order_id", "value": "ord-1"}]}
    assert order_mismatches(order, platform_order_id="ord-1", items=[("10001", 1)], meta_key="platform_order_id") == []
    change(order)
    assert problem in order_mismatches(order, platform_order_id="ord-1", items=[("10001", 1)],
                                       meta_key="platform_order_id")


def test_basic_auth_over_https_and_oauth_over_http_both_sign_correctly(supplier_sim, tmp_path):
    from tradeline.devtools.supplier_sim import SupplierSimulator
    from tradeline.testing.tls import make_certificates

    context, ca_path = make_certificates(tmp_path)
    secure = SupplierSimulator(consumer_key="ck_tls", consumer_secret="cs_tls", ssl_context=context).start()
    try:
        with SupplierClient(base_url=secure.url, consumer_key="ck_tls", consumer_secret="cs_tls",
                            verify=ca_path) as client:
            assert len(client.get_pricing()) == 62
            assert client.create_order(platform_order_id="ord-9", items=[("10001", 1)], **ORDER).id == "5001"
        with SupplierClient(base_url=secure.url, consumer_key="ck_tls", consumer_secret="wrong",
                            verify=ca_path, max_retries=0) as client, pytest.raises(SupplierAuthError):
            client.get_pricing()
    finally:
        secure.stop()
    with supplier_sim.client() as client:  # plain HTTP: OAuth 1.0a in the query string
        assert len(client.get_pricing()) == 62


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_get_retries_5xx_then_succeeds(supplier_sim, status):
    supplier_sim.set_faults(status=status, count=2)
    with supplier_sim.client() as client:
        assert len(client.get_pricing()) == 62
    assert [r["status"] for r in _gets(supplier_sim)] == [status, status, 200]


def test_get_gives_up_after_max_retries(supplier_sim):
    supplier_sim.set_faults(status=503)
    with supplier_sim.client(max_retries=2) as client, pytest.raises(SupplierUnavailable) as exc:
        client.get_pricing()
    assert exc.value.retryable is True and exc.value.http_status == 503
    assert len(_gets(supplier_sim)) == 3


def test_429_honours_retry_after(supplier_sim):
    supplier_sim.set_faults(status=429, retry_after=7, count=1)
    delays = []
    with supplier_sim.client(sleep=delays.append, max_backoff_seconds=30) as client:
        assert len(client.get_pricing()) == 62
    assert delays == [7.0]


def test_429_persisting_is_rate_limited(supplier_sim):
    supplier_sim.set_faults(status=429, retry_after=0)
    with supplier_sim.client(max_retries=1) as client, pytest.raises(SupplierRateLimited) as exc:
        client.get_pricing()
    assert (exc.value.retryable, exc.value.retry_after, exc.value.http_status) == (True, 0.0, 429)
    assert len(_gets(supplier_sim)) == 2


def test_backoff_grows_exponentially_and_is_capped(supplier_sim):
    supplier_sim.set_faults(status=500, count=4)
    delays = []
    with supplier_sim.client(sleep=delays.append, max_retries=4, backoff_seconds=0.5,
                             max_backoff_seconds=1.5) as client:
        client.get_pricing()
    assert delays == [0.5, 1.0, 1.5, 1.5]


def test_timeout_is_unavailable_and_retried(supplier_sim):
    supplier_sim.set_faults(timeout=True, count=1)
    started = time.monotonic()
    with supplier_sim.client(timeout=0.3) as client:
        assert len(client.get_pricing()) == 62
    assert time.monotonic() - started < 2
    assert len(_gets(supplier_sim)) == 2


def test_timeout_every_time_raises_unavailable(supplier_sim):
    supplier_sim.set_faults(timeout=True)
    with supplier_sim.client(timeout=0.2, max_retries=1) as client, pytest.raises(SupplierUnavailable) as exc:
        client.get_pricing()
    assert "did not answer within 0.2s" in exc.value.message


def test_latency_below_the_timeout_is_fine(supplier_sim):
    supplier_sim.set_faults(latency_ms=150)
    started = time.monotonic()
    with supplier_sim.client(timeout=1) as client:
        assert len(client.get_pricing()) == 62
    assert time.monotonic() - started >= 0.15
    assert len(_gets(supplier_sim)) == 1


def test_malformed_json_is_unavailable_and_retried(supplier_sim):
    supplier_sim.set_faults(malformed=True, count=1)
    with supplier_sim.client() as client:
        assert len(client.get_pricing()) == 62
    supplier_sim.set_faults(malformed=True)
    with supplier_sim.client(max_retries=0) as client, pytest.raises(SupplierUnavailable) as exc:
        client.get_order("5001")
    assert "malformed JSON" in exc.value.message


def test_connection_refused_is_unavailable():
    client = SupplierClient(base_url="http://127.0.0.1:9/wp-json/wc/v3", consumer_key="ck", consumer_secret="cs",
                            timeout=0.5, max_retries=1, backoff_seconds=0)
    with pytest.raises(SupplierUnavailable):
        client.get_pricing()


def test_post_is_never_retried(supplier_sim):
    supplier_sim.set_faults(status=500, count=1)
    card_id = supplier_sim.card_ids()[0]
    with supplier_sim.client() as client, pytest.raises(SupplierUnavailable):
        client.create_order(platform_order_id="ord-1", items=[(card_id, 1)], **ORDER)
    assert [r["method"] for r in supplier_sim.requests()] == ["POST"]
    assert supplier_sim.orders() == []


def test_lost_response_then_find_order_for_finds_it(supplier_sim):
    """A POST that timed out may have created the order: look before creating again."""
    supplier_sim.set_faults(lost_response=True, methods=["POST"], count=1)
    card_id = supplier_sim.card_ids()[0]
    with supplier_sim.client(timeout=0.3) as client:
        with pytest.raises(SupplierUnavailable):
            client.create_order(platform_order_id="ord-7", items=[(card_id, 1)], **ORDER)
        found = client.find_order_for(platform_order_id="ord-7", customer_email="jane@example.com")
    assert found is not None and found.id == "5001" and found.platform_order_id == "ord-7"
    assert len(supplier_sim.orders()) == 1


def test_not_configured():
    with pytest.raises(SupplierNotConfigured):
        SupplierClient(base_url="", consumer_key="ck", consumer_secret="cs")


def test_from_settings_uses_basic_auth_over_https(settings):
    settings.TRADELINE_API_URL = "https://tradelinesupply.example/wp-json/wc/v3"
    settings.TRADELINE_CONSUMER_KEY, settings.TRADELINE_CONSUMER_SECRET = "ck_live", "cs_live"
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    client = SupplierClient.from_settings()
    client._http._transport = httpx.MockTransport(handler)  # no network: inspect what would be sent
    assert client.get_pricing() == []
    assert seen[0].headers["Authorization"] == httpx.BasicAuth("ck_live", "cs_live")._auth_header
    assert "oauth_signature" not in str(seen[0].url)
