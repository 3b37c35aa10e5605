"""Where webhooks may go: HTTPS only, and in production only to public addresses after DNS (SSRF)."""

import pytest
from django.test import TestCase
from django.core.management import call_command

from tradeline.core.errors import ValidationFailed
from tradeline.hooks import services
from tradeline.hooks.models import DeliveryStatus, WebhookDelivery
from tradeline.hooks.safety import AddressRefused, clean_endpoint_url, resolve_target

pytestmark = pytest.mark.django_db


@pytest.fixture
def production_rules(settings):
    settings.BROKER_WEBHOOKS_ALLOW_PRIVATE = False


@pytest.mark.parametrize("url", [
    "http://crm.example.com/hook",  # plain http
    "https://127.0.0.1/hook", "https://localhost/hook", "https://api.localhost/hook",
    "https://10.0.0.5/hook", "https://192.168.1.1/hook", "https://172.16.0.1/hook",
    "https://169.254.169.254/latest/meta-data", "https://[::1]/hook", "https://[fe80::1]/hook",
    "https://[::ffff:127.0.0.1]/hook", "https://100.64.0.1/hook", "https://0.0.0.0/hook",
    "https://user:pw@crm.example.com/hook", "ftp://crm.example.com/", "https:///nohost", "",
])
def test_refused_urls_in_production(production_rules, url):
    with pytest.raises(ValidationFailed) as exc:
        clean_endpoint_url(url)
    assert exc.value.code == "INVALID_WEBHOOK_URL"


def test_development_allows_http_to_localhost_only(settings):
    settings.BROKER_WEBHOOKS_ALLOW_PRIVATE = True
    assert clean_endpoint_url("http://127.0.0.1:8765/hook") == "http://127.0.0.1:8765/hook"
    assert clean_endpoint_url("http://localhost/hook") == "http://localhost/hook"
    with pytest.raises(ValidationFailed):
        clean_endpoint_url("http://crm.example.com/hook")


@pytest.mark.parametrize("url", ["https://localhost/hook", "https://127.0.0.1:9/x", "https://[::1]/x",
                                 "https://169.254.169.254/x"])
def test_resolution_refuses_non_public_addresses(production_rules, url):
    with pytest.raises(AddressRefused):
        resolve_target(url)


def test_public_address_is_connected_to_directly_with_the_original_host(production_rules):
    target = resolve_target("https://93.184.216.34:8443/hook?x=1")
    assert (target.connect_url, target.host_header, target.sni_hostname) == (
        "https://93.184.216.34:8443/hook?x=1", "93.184.216.34:8443", "93.184.216.34")


def test_a_name_that_resolves_to_loopback_is_never_contacted(make_broker, broker_receiver, settings, monkeypatch,
                                                             django_capture_on_commit_callbacks):
    """The URL was accepted, but at send time its name resolves to a loopback address: no request."""
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)
    broker = make_broker()
    endpoint, _ = services.webhook_endpoint_create(broker=broker, url=broker_receiver.url, events=["order.paid"])
    port = broker_receiver.url.split(":")[2].split("/")[0]
    endpoint.url = f"https://localhost:{port}/hooks/tradeline"  # a name; it resolves to loopback
    endpoint.save(update_fields=["url"])
    settings.BROKER_WEBHOOKS_ALLOW_PRIVATE = False
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_event_emit(broker_id=broker.pk, type="order.paid", data={})
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("db_worker", batch=True, queue_name="*", startup_delay=False, reload=False, verbosity=0)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.error.startswith("address refused: localhost resolves to a non-public address")
    assert broker_receiver.requests == []
