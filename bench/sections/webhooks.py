"""Signed Stripe webhooks against a real gunicorn process on PostgreSQL.

Every event is a `checkout.session.completed` (payment_status "paid") for its own PENDING broker
order, so each request runs the whole paid path: signature check, event row insert, order lock,
paid transition, commission, analytics increment, activity log, fulfillment task row, one commit.

1. throughput: CLIENTS concurrent senders, as fast as the server answers (bounded in count and time);
   compared with the pgbench TPC-B TPS measured in the same run (target >= 0.25 x pgbench);
2. latency: an open-loop schedule of 100 requests/s (each sent at its planned time, whether or not
   earlier ones have answered), p50/p99 of the response time (target p99 < 50 ms).
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from bench.common import Context, Figure

TITLE = "webhooks (signed checkout.session.completed, paid path)"
ROOT = Path(__file__).resolve().parent.parent.parent
WORKERS = 4
BROKERS = 20
CLIENTS = 8
THROUGHPUT_EVENTS = 3_000
THROUGHPUT_MAX_SECONDS = 20.0
RATE = 100  # requests per second in the latency run
LATENCY_SECONDS = 10
LATENCY_GRACE_SECONDS = 20  # the latency run stops sending this long after its schedule ends
WEBHOOK_PATH = "/api/orders/webhook/stripe"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def _orders(count: int) -> list:
    """PENDING orders spread over BROKERS brokers (a marketplace, not one shop)."""
    from tradeline.testing.factories import make_broker, make_order

    tag = secrets.token_hex(3)
    brokers = [make_broker(share="10", markup_percent="20", name=f"Bench webhooks {tag}-{n}",
                           email=f"bench-{tag}-{n}@example.com") for n in range(BROKERS)]
    return [make_order(broker=brokers[i % BROKERS], prices=(100_000,),
                       order_number=f"TLM-BW-{secrets.token_hex(5).upper()}") for i in range(count)]


def _signed_events(orders: list, secret: str) -> list[tuple[bytes, str]]:
    from tradeline.payments.stripe_gateway import sign_payload

    signed = []
    for order in orders:
        event = {
            "id": f"evt_bench_{secrets.token_hex(10)}", "object": "event", "type": "checkout.session.completed",
            "created": int(time.time()), "livemode": False,
            "data": {"object": {
                "id": f"cs_bench_{secrets.token_hex(10)}", "object": "checkout.session", "payment_status": "paid",
                "payment_intent": f"pi_bench_{secrets.token_hex(10)}", "amount_total": order.total_charged,
                "currency": "usd", "customer_details": {"name": "Bench Customer", "phone": "+15550100"},
                "metadata": {"order_id": str(order.pk), "order_number": order.order_number},
            }},
        }
        body = json.dumps(event).encode()
        signed.append((body, sign_payload(body, secret)))
    return signed


class _Server:
    """gunicorn from the venv serving config.wsgi on a free 127.0.0.1 port."""

    def __init__(self, database_url: str, secret: str):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": database_url, "STRIPE_WEBHOOK_SECRET": secret,
               "STRIPE_WEBHOOK_SECRETS_PREVIOUS": "", "DEBUG": "false", "LOG_LEVEL": "WARNING",
               "DB_CONN_MAX_AGE": "60", "DJANGO_SETTINGS_MODULE": "config.settings"}
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.proc = subprocess.Popen(
            [gunicorn, "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}", "--workers", str(WORKERS),
             "--worker-class", "sync", "--log-level", "warning"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.proc.stderr.read()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code in (200, 503):
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start within 30 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _post(client: httpx.Client, url: str, body: bytes, signature: str) -> bool:
    try:
        response = client.post(url, content=body, headers={"Content-Type": "application/json",
                                                           "Stripe-Signature": signature})
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.json().get("status") == "processed"


def _throughput(url: str, signed: list) -> tuple[float, int, int]:
    """(processed events/s, processed, failed) with CLIENTS senders."""
    lock = threading.Lock()
    queue = list(reversed(signed))
    counts = {"ok": 0, "failed": 0}
    deadline = time.perf_counter() + THROUGHPUT_MAX_SECONDS

    def sender():
        with httpx.Client(timeout=10) as client:
            while time.perf_counter() < deadline:
                with lock:
                    if not queue:
                        return
                    body, signature = queue.pop()
                ok = _post(client, url, body, signature)
                with lock:
                    counts["ok" if ok else "failed"] += 1

    threads = [threading.Thread(target=sender) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return counts["ok"] / elapsed, counts["ok"], counts["failed"]


def _paced(url: str, signed: list) -> tuple[list[float], int]:
    """Open loop at RATE req/s: latencies (ms) of the successful requests, and the failures (errors,
    and requests not sent because the server fell more than LATENCY_GRACE_SECONDS behind)."""
    latencies: list[float] = []
    failed = [0]
    lock = threading.Lock()
    started = time.perf_counter() + 0.2
    slots = list(enumerate(signed))
    slots.reverse()
    senders = 16  # enough to keep the schedule while some requests are slow

    def sender():
        with httpx.Client(timeout=10) as client:
            while True:
                with lock:
                    if not slots:
                        return
                    i, (body, signature) = slots.pop()
                planned = started + i / RATE
                if time.perf_counter() > started + LATENCY_SECONDS + LATENCY_GRACE_SECONDS:
                    with lock:
                        failed[0] += 1  # the server fell too far behind: not sent, counted as failed
                    continue
                wait = planned - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                ok = _post(client, url, body, signature)
                elapsed_ms = (time.perf_counter() - planned) * 1000  # from the planned send time
                with lock:
                    if ok:
                        latencies.append(elapsed_ms)
                    else:
                        failed[0] += 1

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, failed[0]


def run(ctx: Context) -> list[Figure]:
    secret = f"whsec_bench_{secrets.token_hex(16)}"
    paced_count = RATE * LATENCY_SECONDS
    print(f"   preparing {THROUGHPUT_EVENTS + paced_count + 50} orders ...", flush=True)
    orders = _orders(THROUGHPUT_EVENTS + paced_count + 50)
    warmup, rest = orders[:50], orders[50:]
    throughput_events = _signed_events(rest[:THROUGHPUT_EVENTS], secret)
    paced_events = _signed_events(rest[THROUGHPUT_EVENTS:], secret)
    server = _Server(ctx.database_url, secret)
    try:
        url = server.url + WEBHOOK_PATH
        _throughput(url, _signed_events(warmup, secret))  # connections and imports warm in every worker
        print(f"   throughput: up to {THROUGHPUT_EVENTS} events, {CLIENTS} clients, {WORKERS} gunicorn workers",
              flush=True)
        rate, processed, failed = _throughput(url, throughput_events)
        print(f"   latency: {paced_count} events at {RATE}/s", flush=True)
        latencies, paced_failed = _paced(url, paced_events)
    finally:
        server.stop()
    pgbench = float(ctx.shared.get("pgbench_tps") or 0.0)
    p50, p99 = _percentile(latencies, 50), _percentile(latencies, 99)
    figures = [
        Figure(f"webhook throughput ({CLIENTS} clients)", rate, "events/s",
               target=f">= {0.25 * pgbench:,.0f} (0.25 x pgbench)" if pgbench else "",
               ok=(rate >= 0.25 * pgbench and failed == 0) if pgbench else None),
        Figure("webhook throughput / pgbench TPS", rate / pgbench if pgbench else 0.0, "x",
               target=">= 0.25", ok=(rate / pgbench >= 0.25) if pgbench else None),
        Figure(f"webhook latency p50 at {RATE} req/s", p50, "ms"),
        Figure(f"webhook latency p99 at {RATE} req/s", p99, "ms", target="< 50 ms",
               ok=p99 < 50 and paced_failed == 0),
        Figure("webhook events processed (throughput run)", processed, "events"),
        Figure("webhook requests failed (both runs)", failed + paced_failed, "requests", target="0",
               ok=failed + paced_failed == 0),
    ]
    if pgbench:
        figures.insert(0, Figure("pgbench TPC-B (same run)", pgbench, "tps"))
    return figures
