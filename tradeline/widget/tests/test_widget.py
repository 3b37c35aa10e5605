import pytest

from tradeline.analytics.models import BrokerDailyStats
from tradeline.brokers.models import BrokerStatus
from tradeline.brokers.services import broker_keys_rotate
from tradeline.core.errors import ValidationFailed
from tradeline.widget.models import DemoPage
from tradeline.widget.services import demo_page_set
from tradeline.testing.factories import add_checkout_session


def test_widget_js_is_cacheable_and_loadable_from_any_origin(client):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cache-Control"] == "public, max-age=300, stale-while-revalidate=3600"
    body = response.content.decode()
    assert "attachShadow" in body and "/api/public/pricing" in body and "/api/orders/checkout" in body
    etag = response["ETag"]

    again = client.get("/widget.js", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert again["Access-Control-Allow-Origin"] == "*"


def test_widget_js_refuses_post(client):
    assert client.post("/widget.js").status_code == 405


@pytest.mark.django_db
def test_widget_load_counts_one_load_for_the_brokers_day(client, make_broker):
    broker = make_broker()
    key = broker_keys_rotate(broker_id=broker.pk)["publishable_key"]

    response = client.post("/api/analytics/widget-load", HTTP_X_API_KEY=key)
    assert response.status_code == 204
    client.post("/api/analytics/widget-load", HTTP_X_API_KEY=key)

    row = BrokerDailyStats.objects.get(broker=broker)
    assert (row.widget_loads, row.checkout_starts, row.orders_count) == (2, 0, 0)


@pytest.mark.django_db
def test_widget_load_without_a_valid_key_counts_nothing(client, make_broker):
    make_broker()
    assert client.post("/api/analytics/widget-load").status_code == 401
    bad = client.post("/api/analytics/widget-load", HTTP_X_API_KEY="tlm_pk_nope_nope")
    assert bad.status_code == 401
    assert bad.json()["code"] == "INVALID_API_KEY"
    assert BrokerDailyStats.objects.count() == 0


@pytest.mark.django_db
def test_widget_load_of_a_suspended_broker_is_refused(client, make_broker):
    broker = make_broker(status=BrokerStatus.SUSPENDED)
    key = broker_keys_rotate(broker_id=broker.pk)["publishable_key"]
    response = client.post("/api/analytics/widget-load", HTTP_X_API_KEY=key)
    assert response.status_code == 403
    assert response.json()["code"] == "BROKER_SUSPENDED"
    assert BrokerDailyStats.objects.count() == 0


@pytest.mark.django_db
def test_widget_load_is_rate_limited(client, make_broker, settings):
    from django.core.cache import cache

    cache.clear()
    settings.RATE_LIMIT_CATALOG = "3/60"
    broker = make_broker()
    key = broker_keys_rotate(broker_id=broker.pk)["publishable_key"]
    codes = [client.post("/api/analytics/widget-load", HTTP_X_API_KEY=key).status_code for _ in range(4)]
    assert codes == [204, 204, 204, 429]
    assert BrokerDailyStats.objects.get(broker=broker).widget_loads == 3
    cache.clear()


@pytest.mark.django_db
def test_demo_page_embeds_the_widget_with_the_demo_brokers_key(client, make_broker):
    broker = make_broker(business_name="Prime Credit Partners")
    key = broker_keys_rotate(broker_id=broker.pk)["publishable_key"]
    demo_page_set(broker=broker, publishable_key=key)

    response = client.get("/demo/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<script src="http://testserver/widget.js" data-key="{key}"' in html
    assert 'data-success-url="http://testserver/demo/success?session_id={CHECKOUT_SESSION_ID}"' in html
    assert 'data-cancel-url="http://testserver/demo/cart"' in html
    assert "Prime Credit Partners" in html

    cancelled = client.get("/demo/cart")
    assert cancelled.status_code == 200
    assert "Checkout was cancelled" in cancelled.content.decode()


@pytest.mark.django_db
def test_demo_page_without_setup_says_how_to_set_it_up(client):
    response = client.get("/demo/")
    assert response.status_code == 503
    assert "make run" in response.content.decode()


@pytest.mark.django_db
def test_demo_success_page_shows_the_order_of_the_session(client, make_broker, make_order):
    broker = make_broker()
    order = make_order(broker=broker)
    add_checkout_session(order, "cs_test_demo_1")
    response = client.get("/demo/success", {"session_id": "cs_test_demo_1"})
    assert response.status_code == 200
    assert f'<strong id="order-number">{order.order_number}</strong>' in response.content.decode()

    unknown = client.get("/demo/success", {"session_id": "{CHECKOUT_SESSION_ID}"})
    assert unknown.status_code == 200
    assert "order-number" not in unknown.content.decode()


@pytest.mark.django_db
def test_demo_page_needs_a_publishable_key(make_broker):
    broker = make_broker()
    with pytest.raises(ValidationFailed):
        demo_page_set(broker=broker, publishable_key="tlm_sk_secret_value")
    assert DemoPage.objects.count() == 0


@pytest.mark.django_db
def test_default_return_pages_show_the_order(client, make_order):
    order = make_order()
    success = client.get("/checkout/success", {"order": order.order_number})
    assert success.status_code == 200
    assert f'<strong id="order-number">{order.order_number}</strong>' in success.content.decode()
    cancel = client.get("/checkout/cancel", {"order": order.order_number})
    assert cancel.status_code == 200
    assert "Nothing was charged" in cancel.content.decode()
    assert client.get("/checkout/success", {"order": "x" * 500}).status_code == 200
