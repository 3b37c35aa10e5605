"""`/api/brokers/me/webhooks`: the portal's webhook actions over the API, with the broker's secret key."""

import pytest

from tradeline.brokers.services import broker_keys_rotate
from tradeline.hooks.models import EndpointStatus, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, make_broker):
    broker = make_broker()
    keys = broker_keys_rotate(broker_id=broker.pk)

    def call(method, path, body=None, key=keys["secret_key"]):
        return getattr(client, method)(f"/api/brokers{path}", body, content_type="application/json",
                                       HTTP_X_API_KEY=key)

    call.broker, call.keys = broker, keys
    return call


def test_create_list_rotate_test_and_delete(api):
    created = api("post", "/me/webhooks", {"url": "https://crm.example.com/hook", "events": ["order.paid"]})
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["events"] == ["order.paid"] and body["status"] == "ENABLED"
    listed = api("get", "/me/webhooks").json()
    assert [e["id"] for e in listed] == [body["id"]] and "secret" not in listed[0]
    rotated = api("post", f"/me/webhooks/{body['id']}/rotate-secret", {"overlap_seconds": 60}).json()
    assert rotated["secret"] != body["secret"] and rotated["previous_secret_expires_at"]
    test = api("post", f"/me/webhooks/{body['id']}/test")
    assert test.status_code == 202 and test.json()["event_type"] == "webhook.test"
    deliveries = api("get", f"/me/webhooks/{body['id']}/deliveries").json()
    assert [d["status"] for d in deliveries] == ["PENDING"]
    resent = api("post", f"/me/webhook-deliveries/{deliveries[0]['id']}/resend")
    assert resent.status_code == 202 and resent.json()["event_id"] == deliveries[0]["event_id"]
    disabled = api("patch", f"/me/webhooks/{body['id']}", {"enabled": False}).json()
    assert disabled["status"] == EndpointStatus.DISABLED
    assert api("delete", f"/me/webhooks/{body['id']}").status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("body,code", [
    ({"url": "ftp://crm.example.com", "events": ["order.paid"]}, "INVALID_WEBHOOK_URL"),
    ({"url": "https://crm.example.com", "events": ["order.exploded"]}, "VALIDATION_ERROR"),
    ({"url": "https://crm.example.com", "events": []}, "VALIDATION_ERROR"),
    ({"url": "https://crm.example.com", "events": ["order.paid"], "secret": "mine"}, "VALIDATION_ERROR"),
])
def test_bad_input_is_422(api, body, code):
    response = api("post", "/me/webhooks", body)
    assert response.status_code == 422 and response.json()["code"] == code
    assert not WebhookEndpoint.objects.exists()


def test_publishable_key_is_not_enough(api):
    response = api("get", "/me/webhooks", key=api.keys["publishable_key"])
    assert response.status_code == 403 and response.json()["code"] == "SECRET_KEY_REQUIRED"
