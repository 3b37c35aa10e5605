"""The portal's Webhooks page: add (secret shown once), act on endpoints, list deliveries, and
never another broker's endpoints."""

import uuid

import pytest

from tradeline.brokers.services import broker_set_password

from tradeline.hooks import services
from tradeline.hooks.models import EndpointStatus, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal_client(client, make_broker):
    broker = make_broker(email=f"hooks-{uuid.uuid4().hex[:8]}@broker.test")
    broker_set_password(broker_id=broker.pk, password="portal-password-1")
    assert client.post("/portal/login/", {"email": broker.email, "password": "portal-password-1"},
                       REMOTE_ADDR="10.9.8.7").status_code == 302
    client.broker = broker
    return client


def test_add_endpoint_shows_the_secret_once(portal_client):
    response = portal_client.post("/portal/webhooks/", {"url": "https://crm.example.com/hook",
                                                        "events": ["order.paid", "payout.sent"]})
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get(broker=portal_client.broker)
    assert endpoint.events == ["order.paid", "payout.sent"]
    assert endpoint.secret in response.content.decode()
    again = portal_client.get("/portal/webhooks/")
    assert endpoint.secret not in again.content.decode()
    assert "https://crm.example.com/hook" in again.content.decode()


def test_bad_url_is_a_message_not_an_endpoint(portal_client, settings):
    settings.BROKER_WEBHOOKS_ALLOW_PRIVATE = False
    response = portal_client.post("/portal/webhooks/", {"url": "http://10.0.0.1/x", "events": ["order.paid"]})
    assert response.status_code == 400
    assert b"https://" in response.content
    assert not WebhookEndpoint.objects.exists()


def test_actions_and_deliveries(portal_client, make_broker):
    endpoint, _ = services.webhook_endpoint_create(broker=portal_client.broker, url="https://crm.example.com/hook",
                                                   events=["order.paid"])
    assert portal_client.post(f"/portal/webhooks/{endpoint.pk}/test").status_code == 302
    delivery = WebhookDelivery.objects.get()
    page = portal_client.get("/portal/webhooks/").content.decode()
    assert "webhook.test" in page and delivery.event.public_id in page
    assert portal_client.post(f"/portal/webhooks/deliveries/{delivery.pk}/resend").status_code == 302
    portal_client.post(f"/portal/webhooks/{endpoint.pk}/disable")
    endpoint.refresh_from_db()
    assert endpoint.status == EndpointStatus.DISABLED
    old = endpoint.secret
    rotated = portal_client.post(f"/portal/webhooks/{endpoint.pk}/rotate", {"overlap_hours": "2"})
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.secret in rotated.content.decode()


def test_another_brokers_endpoint_is_out_of_reach(portal_client, make_broker):
    other, _ = services.webhook_endpoint_create(broker=make_broker(), url="https://other.example.com/hook",
                                                events=["order.paid"])
    portal_client.post(f"/portal/webhooks/{other.pk}/delete")
    assert WebhookEndpoint.objects.filter(pk=other.pk).exists()
    assert "other.example.com" not in portal_client.get("/portal/webhooks/").content.decode()
