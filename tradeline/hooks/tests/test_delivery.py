"""Webhooks to brokers, through a real local receiver that verifies the signature."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.test import TestCase
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tradeline.audit.models import ActivityLog
from tradeline.core.errors import Conflict, ValidationFailed
from tradeline.hooks import services
from tradeline.hooks.delivery import delivery_attempt, retry_delay_seconds
from tradeline.hooks.models import DeliveryStatus, EndpointStatus, WebhookDelivery, WebhookEvent
from tradeline.hooks.safety import verify_signature

pytestmark = pytest.mark.django_db
TASK = "tradeline.hooks.tasks.deliver_webhook"


@pytest.fixture(autouse=True)
def _worker_keeps_the_test_connection(monkeypatch):
    # As in the fulfillment tests: the worker would close the test transaction's connection.
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)


def run_worker():
    """The real task worker (batch mode): every due task, after-commit work included."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("db_worker", batch=True, queue_name="*", startup_delay=False, reload=False, verbosity=0)


@pytest.fixture
def endpoint_for(make_broker, broker_receiver):
    def build(events=("order.paid",), broker=None):
        broker = broker or make_broker(email="crm@broker.example")
        endpoint, secret = services.webhook_endpoint_create(broker=broker, url=broker_receiver.url,
                                                            events=list(events))
        broker_receiver.secret = secret
        return endpoint

    return build


def emit(django_capture_on_commit_callbacks, broker_id, type="order.paid", data=None):
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_event_emit(broker_id=broker_id, type=type, data=data or {"object": "order", "id": "o-1"})


def test_event_arrives_signed_once_committed(endpoint_for, broker_receiver, django_capture_on_commit_callbacks):
    endpoint = endpoint_for()
    emit(django_capture_on_commit_callbacks, endpoint.broker_id, data={"object": "order", "total_charged": 120000})
    run_worker()
    [request] = broker_receiver.requests
    event = WebhookEvent.objects.get()
    assert request["verified"] is True
    assert request["json"] == {"id": event.public_id, "type": "order.paid",
                               "created": int(event.created_at.timestamp()),
                               "data": {"object": "order", "total_charged": 120000}}
    assert request["headers"]["Tradeline-Event-Id"] == event.public_id
    assert request["headers"]["Content-Type"] == "application/json"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.response_body, delivery.error) == (
        DeliveryStatus.SUCCEEDED, 1, 200, '{"received":true}', "")
    assert delivery.duration_ms is not None and delivery.duration_ms >= 0


def test_a_wrong_secret_does_not_verify(endpoint_for, broker_receiver, django_capture_on_commit_callbacks):
    endpoint = endpoint_for()
    broker_receiver.secret = "whsec_someone-else"
    emit(django_capture_on_commit_callbacks, endpoint.broker_id)
    run_worker()
    assert [r["verified"] for r in broker_receiver.requests] == [False]


def test_nothing_for_unsubscribed_types_or_rolled_back_changes(endpoint_for, broker_receiver,
                                                                django_capture_on_commit_callbacks):
    endpoint = endpoint_for(events=["payout.sent"])
    emit(django_capture_on_commit_callbacks, endpoint.broker_id, type="order.paid")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            services.webhook_event_emit(broker_id=endpoint.broker_id, type="payout.sent", data={})
            raise RuntimeError("the business change failed")
    run_worker()
    assert WebhookEvent.objects.count() == 0
    assert broker_receiver.requests == []


def test_failures_retry_on_the_exponential_schedule_then_disable_and_email(
        endpoint_for, broker_receiver, django_capture_on_commit_callbacks, settings):
    settings.BROKER_WEBHOOKS_RETRY_SCHEDULE = [60 * 2 ** n for n in range(12)]
    broker_receiver.default_status = 503
    endpoint = endpoint_for()
    emit(django_capture_on_commit_callbacks, endpoint.broker_id)
    run_worker()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.error) == (
        DeliveryStatus.PENDING, 1, 503, "HTTP 503")
    queued = DBTaskResult.objects.filter(task_path=TASK, status="READY")
    assert [t.run_after for t in queued] == [delivery.next_attempt_at]
    delays = [round((delivery.next_attempt_at - delivery.last_attempt_at).total_seconds())]
    for _ in range(12):  # the clock jumps to each due time
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            outcome = delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        if outcome.status == "retry":
            delays.append(round((delivery.next_attempt_at - delivery.last_attempt_at).total_seconds()))
    assert delays == [60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 30720, 61440, 122880]
    assert 2.5 * 86400 < sum(delays) <= 3 * 86400
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.FAILED, 13, None)
    assert len(broker_receiver.requests) == 13
    assert len({r["json"]["id"] for r in broker_receiver.requests}) == 1  # one event id throughout
    endpoint.refresh_from_db()
    assert (endpoint.status, endpoint.consecutive_failures) == (EndpointStatus.DISABLED, 13)
    assert [m.to for m in mail.outbox] == [["crm@broker.example"]]
    assert endpoint.url in mail.outbox[0].body
    assert mail.outbox[0].alternatives[0][1] == "text/html"
    assert ActivityLog.objects.filter(action="webhook_endpoint.disabled", entity_id=str(endpoint.pk)).count() == 1
    # A disabled endpoint gets nothing more.
    emit(django_capture_on_commit_callbacks, endpoint.broker_id)
    assert WebhookEvent.objects.count() == 1


def test_retry_delay_ends_after_the_schedule(settings):
    settings.BROKER_WEBHOOKS_RETRY_SCHEDULE = [60, 120]
    assert [retry_delay_seconds(n) for n in (1, 2, 3)] == [60, 120, None]


def test_a_failure_then_success_delivers_the_same_event(endpoint_for, broker_receiver,
                                                         django_capture_on_commit_callbacks):
    broker_receiver.statuses = [500]
    endpoint = endpoint_for()
    emit(django_capture_on_commit_callbacks, endpoint.broker_id)
    run_worker()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    # Not due yet: a duplicate task does nothing.
    assert delivery_attempt(delivery_id=delivery.pk).status == "skipped"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert delivery_attempt(delivery_id=delivery.pk).status == "succeeded"
    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (DeliveryStatus.SUCCEEDED, 2, 200)
    assert endpoint.consecutive_failures == 0
    first, second = broker_receiver.requests
    assert first["json"]["id"] == second["json"]["id"] and first["body"] == second["body"]
    # Done is done: another run of the task sends nothing.
    assert delivery_attempt(delivery_id=delivery.pk).status == "skipped"
    assert len(broker_receiver.requests) == 2


def test_response_body_is_kept_to_1kb(endpoint_for, broker_receiver, django_capture_on_commit_callbacks):
    broker_receiver.response_body = b"x" * 5000
    endpoint = endpoint_for()
    emit(django_capture_on_commit_callbacks, endpoint.broker_id)
    run_worker()
    assert len(WebhookDelivery.objects.get().response_body) == 1024


def test_slow_receiver_times_out_and_is_retried(endpoint_for, broker_receiver, django_capture_on_commit_callbacks,
                                                settings):
    settings.BROKER_WEBHOOKS_TIMEOUT_SECONDS = 1
    broker_receiver.delay_seconds = 2
    endpoint = endpoint_for()
    emit(django_capture_on_commit_callbacks, endpoint.broker_id)
    run_worker()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.error, delivery.response_status) == (DeliveryStatus.PENDING, "timed out", None)
    assert 900 <= delivery.duration_ms < 2000


def test_rotation_signs_with_both_secrets_during_the_overlap(endpoint_for, broker_receiver,
                                                               django_capture_on_commit_callbacks):
    endpoint = endpoint_for()
    old_secret = broker_receiver.secret
    endpoint, new_secret = services.webhook_secret_rotate(broker=endpoint.broker, endpoint_id=endpoint.pk,
                                                          overlap_seconds=3600)
    assert new_secret != old_secret and new_secret.startswith("whsec_")
    emit(django_capture_on_commit_callbacks, endpoint.broker_id)
    run_worker()
    [request] = broker_receiver.requests
    header = request["headers"]["Tradeline-Signature"]
    assert header.count("v1=") == 2
    now = int(timezone.now().timestamp())
    for secret in (old_secret, new_secret):
        assert verify_signature(header=header, body=request["body"], secret=secret, tolerance=300, now=now)
    # Without an overlap the old secret stops at once.
    services.webhook_secret_rotate(broker=endpoint.broker, endpoint_id=endpoint.pk, overlap_seconds=0)
    endpoint.refresh_from_db()
    assert (endpoint.previous_secret, endpoint.previous_secret_expires_at) == ("", None)


def test_signature_rejects_old_timestamps_and_tampered_bodies():
    from tradeline.hooks.safety import signature_header

    body = b'{"id":"evt_1"}'
    header = signature_header(secrets=["whsec_a"], timestamp=1_000_000, body=body)
    assert verify_signature(header=header, body=body, secret="whsec_a", tolerance=300, now=1_000_100)
    assert not verify_signature(header=header, body=body, secret="whsec_a", tolerance=300, now=1_000_400)
    assert not verify_signature(header=header, body=body + b" ", secret="whsec_a", tolerance=300, now=1_000_100)


def test_at_most_five_endpoints(make_broker):
    broker = make_broker()
    for n in range(5):
        services.webhook_endpoint_create(broker=broker, url=f"https://crm{n}.example.com/hook", events=["order.paid"])
    with pytest.raises(Conflict) as exc:
        services.webhook_endpoint_create(broker=broker, url="https://crm9.example.com/hook", events=["order.paid"])
    assert exc.value.code == "WEBHOOK_ENDPOINT_LIMIT"


@pytest.mark.parametrize("events", [[], ["order.paid", "order.exploded"], ["webhook.test"], "order.paid"])
def test_events_must_be_known(make_broker, events):
    with pytest.raises(ValidationFailed):
        services.webhook_endpoint_create(broker=make_broker(), url="https://crm.example.com/hook", events=events)


def test_resend_sends_the_same_event_again(endpoint_for, broker_receiver, django_capture_on_commit_callbacks):
    endpoint = endpoint_for()
    emit(django_capture_on_commit_callbacks, endpoint.broker_id)
    run_worker()
    delivery = WebhookDelivery.objects.get()
    services.webhook_delivery_resend(broker=endpoint.broker, delivery_id=delivery.pk)
    run_worker()
    assert [r["json"]["id"] for r in broker_receiver.requests] == [delivery.event.public_id] * 2
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED


def test_test_event_goes_to_one_endpoint_whatever_it_subscribed(endpoint_for, broker_receiver):
    endpoint = endpoint_for(events=["payout.sent"])
    services.webhook_send_test(broker=endpoint.broker, endpoint_id=endpoint.pk)
    run_worker()
    [request] = broker_receiver.requests
    assert request["verified"] and request["json"]["type"] == "webhook.test"


def test_requeue_finds_due_deliveries_without_a_task(endpoint_for, broker_receiver,
                                                      django_capture_on_commit_callbacks):
    endpoint = endpoint_for()
    emit(django_capture_on_commit_callbacks, endpoint.broker_id)
    DBTaskResult.objects.all().delete()  # the task was lost
    WebhookDelivery.objects.update(updated_at=timezone.now() - timedelta(minutes=5))
    assert services.webhook_requeue_due() == 1
    run_worker()
    assert len(broker_receiver.requests) == 1
    assert json.loads(broker_receiver.requests[0]["body"])["type"] == "order.paid"


def test_an_unreachable_endpoint_is_a_failed_attempt_not_a_crash(make_broker, broker_receiver,
                                                                 django_capture_on_commit_callbacks):
    broker = make_broker()
    endpoint, _ = services.webhook_endpoint_create(broker=broker, url="http://127.0.0.1:9/closed",
                                                   events=["order.paid"])
    emit(django_capture_on_commit_callbacks, broker.pk)
    delivery = WebhookDelivery.objects.get()
    assert delivery_attempt(delivery_id=delivery.pk).status == "retry"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status) == (DeliveryStatus.PENDING, None)
    assert delivery.error.startswith("connection failed")
