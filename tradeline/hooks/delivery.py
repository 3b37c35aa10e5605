"""One delivery attempt: claim the delivery, POST the signed envelope, record the outcome.

At least once: a delivery is SUCCEEDED only after a 2xx; a crash between the POST and the record
means the receiver gets the same event (same id) again. The claim (a short lease on
`next_attempt_at`) keeps a duplicate task from sending in parallel. No row lock is held during
the HTTP call.
"""

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tradeline.audit.services import activity_log
from tradeline.hooks.emails import send_endpoint_disabled
from tradeline.hooks.models import DeliveryStatus, EndpointStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from tradeline.hooks.safety import AddressRefused, resolve_target, signature_header

logger = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 1024
USER_AGENT = "Tradeline-Webhooks/1.0"


def envelope(event: WebhookEvent) -> bytes:
    """The body, byte for byte the same on every attempt (receivers dedupe on `id`)."""
    payload = {"id": event.public_id, "type": event.type, "created": int(event.created_at.timestamp()),
               "data": event.data}
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def live_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    secrets = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        secrets.append(endpoint.previous_secret)
    return secrets


def retry_delay_seconds(attempt: int) -> int | None:
    """Seconds to wait after failed attempt number `attempt` (1-based), or None: give up."""
    schedule = settings.BROKER_WEBHOOKS_RETRY_SCHEDULE
    return schedule[attempt - 1] if attempt <= len(schedule) else None


def _lease_seconds() -> int:
    return int(settings.BROKER_WEBHOOKS_TIMEOUT_SECONDS) * 2 + 30


@dataclass
class Outcome:
    status: str  # "skipped", "succeeded", "retry", "failed"
    retry_at: datetime | None = None


def _claim(delivery_id) -> WebhookDelivery | None:
    now = timezone.now()
    with transaction.atomic():
        delivery = (WebhookDelivery.objects.select_for_update(of=("self",))
                    .select_related("endpoint", "event").filter(pk=delivery_id).first())
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return None
        if delivery.next_attempt_at and delivery.next_attempt_at > now:
            return None
        if delivery.endpoint.status != EndpointStatus.ENABLED:
            delivery.status, delivery.error = DeliveryStatus.FAILED, "endpoint disabled"
            delivery.save(update_fields=["status", "error", "updated_at"])
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + timedelta(seconds=_lease_seconds())
        delivery.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
        return delivery


def _post(delivery: WebhookDelivery) -> tuple[int | None, str, str, int]:
    """(response status or None, first 1 KB of the body, error, duration in ms). Never raises."""
    body = envelope(delivery.event)
    now = timezone.now()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Tradeline-Event-Id": delivery.event.public_id,
        "Tradeline-Signature": signature_header(secrets=live_secrets(delivery.endpoint, now),
                                                timestamp=int(now.timestamp()), body=body),
    }
    started = time.monotonic()
    try:
        target = resolve_target(delivery.endpoint.url)
        headers["Host"] = target.host_header
        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
        timeout = float(settings.BROKER_WEBHOOKS_TIMEOUT_SECONDS)
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            with client.stream("POST", target.connect_url, content=body, headers=headers,
                               extensions=extensions) as response:
                received = b""
                for chunk in response.iter_raw():
                    received += chunk
                    if len(received) >= MAX_RESPONSE_BYTES:
                        break
                text = received[:MAX_RESPONSE_BYTES].decode("utf-8", "replace")
                return response.status_code, text[:MAX_RESPONSE_BYTES], "", _ms(started)
    except AddressRefused as exc:
        return None, "", f"address refused: {exc}"[:300], _ms(started)
    except httpx.TimeoutException:
        return None, "", "timed out", _ms(started)
    except httpx.HTTPError as exc:
        return None, "", f"connection failed ({type(exc).__name__})", _ms(started)
    except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
        return None, "", f"invalid URL ({type(exc).__name__})", _ms(started)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def delivery_attempt(*, delivery_id) -> Outcome:
    """Claim, send, record. Returns what the task should do next (retry_at for "retry")."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return Outcome("skipped")
    status_code, text, error, duration = _post(delivery)
    ok = status_code is not None and 200 <= status_code < 300
    if not ok and not error:
        error = f"HTTP {status_code}"
    now = timezone.now()
    delay = None if ok or error.startswith("address refused") else retry_delay_seconds(delivery.attempts)
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.SUCCEEDED if ok else (DeliveryStatus.PENDING if delay else DeliveryStatus.FAILED),
            next_attempt_at=now + timedelta(seconds=delay) if delay else None,
            last_attempt_at=now, response_status=status_code, response_body=text, duration_ms=duration,
            error="" if ok else error, updated_at=now)
        endpoints = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id)
        if ok:
            endpoints.update(consecutive_failures=0)
            return Outcome("succeeded")
        endpoints.update(consecutive_failures=F("consecutive_failures") + 1)
        if delay:
            return Outcome("retry", retry_at=now + timedelta(seconds=delay))
        disabled = _disable_if_failing(delivery.endpoint_id, now)
    if disabled is not None:
        transaction.on_commit(lambda: _email_disabled(disabled))
    return Outcome("failed")


def _disable_if_failing(endpoint_id, now) -> WebhookEndpoint | None:
    """A delivery that used up its retries (about 3 days of failures) disables its endpoint."""
    endpoint = (WebhookEndpoint.objects.select_for_update().select_related("broker")
                .filter(pk=endpoint_id, status=EndpointStatus.ENABLED).first())
    if endpoint is None:
        return None
    endpoint.status, endpoint.disabled_at = EndpointStatus.DISABLED, now
    endpoint.disabled_reason = f"{endpoint.consecutive_failures} failed attempts in a row"
    endpoint.save(update_fields=["status", "disabled_at", "disabled_reason", "updated_at"])
    activity_log(action="webhook_endpoint.disabled", entity=endpoint, broker_id=endpoint.broker_id,
                 metadata={"consecutive_failures": endpoint.consecutive_failures})
    return endpoint


def _email_disabled(endpoint: WebhookEndpoint) -> None:
    send_endpoint_disabled(endpoint=endpoint)
