"""Webhook deliveries: real HTTP POSTs, signed the way Stripe signs them, results recorded per event.

Each attempt is signed anew (fresh timestamp), as Stripe does. In command mode, failed deliveries
are retried a bounded number of times with backoff; in tests they are not (tests resend explicitly).
"""

import hashlib
import hmac
import json
import logging
import queue
import threading
import time

import httpx

logger = logging.getLogger(__name__)

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def stripe_signature(body: bytes, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_body(event: dict) -> bytes:
    # Stripe sends pretty-printed JSON; a verifier that re-serialises the body would fail here too.
    return json.dumps(event, indent=2).encode()


class Deliverer:
    def __init__(self, state, *, webhook_secret: str, webhook_url: str | None = None, timeout: float = 5.0,
                 retry_delays: tuple[float, ...] = ()):
        self.state = state
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.timeout = timeout
        self.retry_delays = tuple(retry_delays)
        self._queue: queue.Queue = queue.Queue()
        self._pending = 0
        self._pending_lock = threading.Condition()
        self._timers: set[threading.Timer] = set()
        # One pooled client for every delivery (thread-safe; building one per POST costs an SSL context).
        self._http = httpx.Client(timeout=timeout, limits=httpx.Limits(max_connections=100,
                                                                       max_keepalive_connections=0))
        self._worker = threading.Thread(target=self._run, name="stripe-sim-webhooks", daemon=True)
        self._worker.start()

    # ---- one attempt -----------------------------------------------------------------------

    def deliver(self, event: dict, *, mode: str = "auto", attempt: int = 1) -> dict:
        url = self.webhook_url
        started = time.monotonic()
        result = {"attempt": attempt, "mode": mode, "url": url, "status": None, "error": None,
                  "at": int(time.time()), "duration_ms": 0}
        if not url:
            result["error"] = "no webhook URL configured (recorded only)"
            self.state.record_delivery(event["id"], result)
            return result
        body = event_body(event)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Stripe-Signature": stripe_signature(body, self.webhook_secret, int(time.time())),
        }
        try:
            response = self._http.post(url, content=body, headers=headers, timeout=self.timeout)
            result["status"] = response.status_code
            if response.status_code >= 300:
                result["error"] = response.text[:300]
        except httpx.HTTPError as exc:
            result["error"] = f"{type(exc).__name__}: {exc}"[:300]
        result["duration_ms"] = int((time.monotonic() - started) * 1000)
        self.state.record_delivery(event["id"], result)
        logger.info("webhook %s %s -> %s (attempt %d)", event["type"], event["id"],
                    result["status"] or result["error"], attempt)
        ok = result["status"] is not None and 200 <= result["status"] < 300
        if not ok and mode == "auto":
            if attempt <= len(self.retry_delays):
                self._schedule_retry(event, attempt)
            elif self.retry_delays:
                logger.warning("webhook %s %s: giving up after %d attempts (resend with POST /_sim/events/%s/resend)",
                               event["type"], event["id"], attempt, event["id"])
        return result

    def _schedule_retry(self, event: dict, attempt: int) -> None:
        delay = self.retry_delays[attempt - 1]

        def fire():
            self._timers.discard(timer)
            self.enqueue([event], attempt=attempt + 1)

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        self._timers.add(timer)
        timer.start()

    # ---- several ---------------------------------------------------------------------------

    def deliver_all(self, events: list[dict], *, mode: str = "auto") -> list[dict]:
        """Deliver in the given order, one after the other, in the calling thread."""
        return [self.deliver(event, mode=mode) for event in events]

    def deliver_concurrently(self, event: dict, n: int) -> list[dict]:
        """The same event N times at once (threads released together by a barrier)."""
        barrier = threading.Barrier(n)
        results: list[dict | None] = [None] * n

        def one(i: int) -> None:
            try:
                barrier.wait(timeout=self.timeout)
            except threading.BrokenBarrierError:
                pass
            results[i] = self.deliver(event, mode="concurrent")

        threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(self.timeout * 2 + 5)
        return [r for r in results if r is not None]

    # ---- background (events caused by API calls) -------------------------------------------

    def enqueue(self, events: list[dict], *, attempt: int = 1) -> None:
        if not events:
            return
        with self._pending_lock:
            self._pending += len(events)
        for event in events:
            self._queue.put((event, attempt))

    def _run(self) -> None:
        while True:
            event, attempt = self._queue.get()
            try:
                self.deliver(event, mode="auto", attempt=attempt)
            except Exception:  # keep the worker alive whatever happens
                logger.exception("webhook delivery of %s failed", event.get("id"))
            finally:
                with self._pending_lock:
                    self._pending -= 1
                    self._pending_lock.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued delivery has been attempted (retries scheduled later excluded)."""
        deadline = time.monotonic() + timeout
        with self._pending_lock:
            while self._pending > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._pending_lock.wait(remaining)
        return True

    def cancel_retries(self) -> None:
        for timer in list(self._timers):
            timer.cancel()
        self._timers.clear()
