import pytest
from django.test import override_settings

from tradeline.brokers.services import broker_keys_rotate
from tradeline.core.cors import normalize_origin, origin_allowed

pytestmark = pytest.mark.django_db
URL = "/api/brokers/me/public"


@pytest.fixture
def shop(make_broker):
    broker = make_broker(allowed_origins=["https://shop.example.com", "http://localhost:3000"],
                         website="https://www.shop-home.example/tradelines/")
    return broker, broker_keys_rotate(broker_id=broker.pk)


def test_preflight_is_answered_with_methods_and_headers(client):
    response = client.options(URL, HTTP_ORIGIN="https://anywhere.example",
                              HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                              HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-api-key, content-type")
    assert response.status_code == 200  # django-cors-headers answers preflights with an empty 200
    assert response.content == b""
    assert response["Access-Control-Allow-Origin"] == "https://anywhere.example"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert response["Access-Control-Allow-Headers"] == "x-api-key, content-type"
    assert response["Access-Control-Max-Age"] == "600"
    assert response["Vary"].lower() == "origin"


@pytest.mark.parametrize("origin", ["null", "garbage", "ftp://x.example"])
def test_preflight_from_a_non_web_origin_is_not_allowed(client, origin):
    response = client.options(URL, HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Methods" not in response


def test_preflight_outside_the_api_gets_no_cors_headers(client):
    response = client.options("/portal/login/", HTTP_ORIGIN="https://anywhere.example",
                              HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.parametrize("origin", ["https://shop.example.com", "http://localhost:3000",
                                    "https://www.shop-home.example"])
def test_allowed_origin_gets_the_header(client, shop, origin):
    broker, keys = shop
    response = client.get(URL, HTTP_ORIGIN=origin, HTTP_X_API_KEY=keys["publishable_key"])
    assert response.status_code == 200
    assert response.json()["id"] == str(broker.pk)
    assert response["Access-Control-Allow-Origin"] == origin
    assert "origin" in response["Vary"].lower()


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "https://shop.example.com.evil.example",
                                    "http://shop.example.com", "garbage"])
def test_disallowed_origin_with_publishable_key_is_403(client, shop, origin):
    _, keys = shop
    response = client.get(URL, HTTP_ORIGIN=origin, HTTP_X_API_KEY=keys["publishable_key"])
    assert response.status_code == 403
    assert response.json()["code"] == "CORS_ORIGIN_NOT_ALLOWED"
    assert "Access-Control-Allow-Origin" not in response


def test_server_side_call_without_origin_has_no_cors_header(client, shop):
    _, keys = shop
    response = client.get(URL, HTTP_X_API_KEY=keys["publishable_key"])
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_secret_key_is_never_exposed_to_browsers(client, shop):
    _, keys = shop
    response = client.get("/api/brokers/me", HTTP_ORIGIN="https://shop.example.com",
                          HTTP_X_API_KEY=keys["secret_key"])
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


@override_settings(PUBLIC_BASE_URL="http://127.0.0.1:8000")
def test_our_own_origin_is_allowed(client, shop):
    _, keys = shop
    response = client.get(URL, HTTP_ORIGIN="http://127.0.0.1:8000", HTTP_X_API_KEY=keys["publishable_key"])
    assert response["Access-Control-Allow-Origin"] == "http://127.0.0.1:8000"


def test_origin_normalisation():
    assert normalize_origin("HTTPS://Shop.Example.COM:443/") == "https://shop.example.com"
    assert normalize_origin("http://localhost:80") == "http://localhost"
    assert normalize_origin("http://[::1]:8080") == "http://[::1]:8080"
    assert normalize_origin("ftp://x.example") is None
    assert normalize_origin("null") is None
    assert normalize_origin("http://x.example:99999") is None


def test_origin_allowed_ignores_junk_entries(make_broker):
    broker = make_broker(allowed_origins=[5, None, "https://ok.example"])
    assert origin_allowed(broker, "https://ok.example")
    assert not origin_allowed(broker, "https://other.example")
