"""Receiving Stripe webhooks: verify, record once, process in the same transaction.

1. The signature is checked on the raw bytes before anything is parsed or written
   (stripe_gateway.verify_webhook; missing/bad/stale -> 400, nothing written).
2. One transaction inserts the WebhookEvent row (unique source + event id), runs the handler and
   marks the row PROCESSED / IGNORED / NEEDS_REVIEW / DEFERRED. The effects and the "done" mark
   commit together or not at all.
3. The row is inserted with ON CONFLICT DO NOTHING (no savepoint: a duplicate leaves the
   transaction usable). A duplicate (also a concurrent one: PostgreSQL makes the second insert wait
   for the first transaction) finds the existing row, locks it and, if it is done, acknowledges the
   delivery as a duplicate. A row left FAILED by an earlier attempt is processed again.
   The handler runs inside one savepoint, the only one on this path: a permanent problem rolls
   back the handler's effects while the row stays, recorded NEEDS_REVIEW.
4. Transient failures (database errors, lock timeouts) roll everything back; the row is then
   recorded FAILED in a separate transaction (best effort) and the error propagates -> 503, so
   Stripe retries. Permanent problems are recorded NEEDS_REVIEW with the order flagged -> 200.
"""

import logging
from dataclasses import dataclass

from django.db import OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from tradeline.core import stripe_events
from tradeline.core.errors import ApplicationError
from tradeline.core.db import insert_unless_present, set_local_lock_timeout
from tradeline.payments import stripe_gateway
from tradeline.payments.handlers import HANDLERS, HandlerResult, PermanentEventProblem
from tradeline.payments.models import WebhookEvent
from tradeline.payments.services import order_flag_for_review

logger = logging.getLogger(__name__)

SOURCE = "stripe"
Status = WebhookEvent.Status
DONE = (Status.PROCESSED, Status.IGNORED, Status.NEEDS_REVIEW, Status.DEFERRED)
LOCK_TIMEOUT = "5s"  # a webhook never waits longer than this for a row lock (then 503, Stripe retries)
ERROR_MAX = 2000
EVENT_ID_MAX = 255


@dataclass(frozen=True)
class WebhookOutcome:
    status: str  # processed | ignored | needs_review | deferred | duplicate
    event_id: str
    event_type: str

    def as_dict(self) -> dict:
        return {"received": True, "status": self.status, "event_id": self.event_id, "type": self.event_type}


def webhook_receive(*, payload: bytes, signature: str | None) -> WebhookOutcome:
    """Verify and process one delivery (see the module doc)."""
    event = stripe_gateway.verify_webhook(payload, signature)
    if len(event["id"]) > EVENT_ID_MAX:
        raise stripe_gateway.WebhookPayloadError("The event id is too long.")
    try:
        return webhook_process(event=event)
    except Exception as exc:
        _record_failure(event, exc)
        raise


def webhook_process(*, event: dict, replay: bool = False) -> WebhookOutcome:
    """Record and process a verified event in one transaction. `replay=True` also re-runs an
    event left DEFERRED or NEEDS_REVIEW (the replay command); effects are idempotent."""
    event_id, event_type = event["id"], event["type"]
    with transaction.atomic():
        row = _claim(event, replay=replay)
        if row is None:
            return WebhookOutcome("duplicate", event_id, event_type)
        result = _dispatch(event)
        row.status = result.status
        row.order_id = result.order_id
        row.error = result.note[:ERROR_MAX]
        row.attempts += 1  # the row is this transaction's: inserted or locked by _claim
        row.processed_at = timezone.now()
        row.save(update_fields=["status", "order", "error", "attempts", "processed_at", "updated_at"])
    if result.status == Status.NEEDS_REVIEW:
        logger.warning("webhook %s (%s) needs review: %s", event_id, event_type, result.note)
    return WebhookOutcome(str(result.status).lower(), event_id, event_type)


def _claim(event: dict, *, replay: bool) -> WebhookEvent | None:
    """The event's row, inserted now or (FAILED earlier) locked for another try; None if done.
    The transaction's first statements: `SET LOCAL lock_timeout` (PostgreSQL), which bounds every
    lock wait that follows, the INSERT's own included; then the INSERT (ON CONFLICT DO NOTHING)."""
    row = WebhookEvent(source=SOURCE, event_id=event["id"], event_type=event["type"][:100], payload=event,
                       status=Status.RECEIVED)
    if insert_unless_present(row, lock_timeout=LOCK_TIMEOUT):
        return row
    # Recorded before (or by a concurrent delivery that has committed meanwhile).
    row = WebhookEvent.objects.select_for_update().filter(source=SOURCE, event_id=event["id"]).first()
    if row is None:  # cannot normally happen; let the sender retry
        raise OperationalError("the webhook event row is not visible yet")
    if row.status in DONE and not (replay and row.status in (Status.DEFERRED, Status.NEEDS_REVIEW)):
        return None
    return row


def _registered(event_type: str):
    """A handler an upper app registered (core/stripe_events.py), wrapped to give a HandlerResult."""
    handler = stripe_events.handler_for(event_type)
    if handler is None:
        return None

    def run(event: dict) -> HandlerResult:
        status, note = handler(event)
        return HandlerResult(Status(status), note=note)

    return run


def _dispatch(event: dict) -> HandlerResult:
    handler = HANDLERS.get(event["type"]) or _registered(event["type"])
    if handler is None:
        return HandlerResult(Status.IGNORED, note="event type not handled")
    try:
        with transaction.atomic():  # a permanent problem rolls back the handler's partial effects
            return handler(event)
    except PermanentEventProblem as problem:
        if problem.order_id is not None:
            order_flag_for_review(order_id=problem.order_id, reason=f"Stripe event {event['id']}: {problem}")
        return HandlerResult(Status.NEEDS_REVIEW, problem.order_id, note=str(problem))
    except ApplicationError as exc:  # a service refused the event's data (e.g. a negative amount)
        return HandlerResult(Status.NEEDS_REVIEW, note=f"{exc.code}: {exc.message}")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # an event shape we do not understand
        logger.exception("webhook %s (%s): malformed event", event.get("id"), event.get("type"))
        return HandlerResult(Status.NEEDS_REVIEW, note=f"malformed event: {type(exc).__name__}")


def _record_failure(event: dict, exc: Exception) -> None:
    """After a rolled-back attempt: leave a FAILED row so the failure is visible and the
    redelivery (or `tradeline replay_webhooks`) processes it again. Best effort."""
    logger.warning("webhook %s (%s) failed: %s", event.get("id"), event.get("type"), type(exc).__name__)
    error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX]
    try:
        with transaction.atomic():
            set_local_lock_timeout(LOCK_TIMEOUT)  # a concurrent delivery may hold the row: never wait long
            updated = (
                WebhookEvent.objects.filter(source=SOURCE, event_id=event["id"])
                .exclude(status__in=DONE)
                .update(status=Status.FAILED, error=error, attempts=F("attempts") + 1, updated_at=timezone.now())
            )
            if not updated and not WebhookEvent.objects.filter(source=SOURCE, event_id=event["id"]).exists():
                with transaction.atomic():
                    WebhookEvent.objects.create(source=SOURCE, event_id=event["id"], event_type=event["type"][:100],
                                                payload=event, status=Status.FAILED, error=error, attempts=1)
    except Exception as second:  # the database may be the thing that is down
        logger.warning("could not record the failure of webhook %s: %s", event.get("id"), type(second).__name__)
