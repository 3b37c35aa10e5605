"""Checkout creation: POST /api/orders/checkout on a real gunicorn process (PostgreSQL), each request
pricing the cart against the catalog, creating the order and its items, and creating a Checkout
Session at the local Stripe server (its own process, over HTTP) before answering.

1. throughput: CLIENTS concurrent senders, bounded in count (CHECKOUTS) and time;
2. latency: an open-loop schedule of RATE checkouts/s (each sent at its planned time), p50/p99.
"""

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

TITLE = "checkout (API -> order -> local Stripe session)"
ROOT = Path(__file__).resolve().parent.parent.parent
WORKERS = 4
CLIENTS = 8
CHECKOUTS = 1_500
MAX_SECONDS = 20.0
RATE = 25  # checkouts per second in the latency run (at most half the measured throughput)
LATENCY_SECONDS = 8
CARDS = 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))]


def _log_file(name: str):
    """Child output goes to a file (a pipe nobody reads would block the child once full)."""
    path = ROOT / "var" / f"bench-checkout-{name}.log"
    path.parent.mkdir(exist_ok=True)
    return path.open("w")


def _wait_http(url: str, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited (see var/bench-checkout-*.log)")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not start within 30 s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _prepare() -> tuple[str, list[str]]:
    """A broker with a secret key and a fresh slice of the catalog; returns (key, card ids)."""
    from django.utils import timezone

    from tradeline.brokers import keys
    from tradeline.brokers.models import BrokerApiKey, KeyKind
    from tradeline.catalog.models import Tradeline
    from tradeline.testing.factories import make_broker

    tag = secrets.token_hex(3)
    broker = make_broker(share="12.5", markup_percent="7.5", name=f"Bench checkout {tag}",
                         email=f"bench-checkout-{tag}@example.com")
    key, prefix, key_hash = keys.new_key(keys.SECRET_PREFIX)
    BrokerApiKey.objects.create(broker=broker, kind=KeyKind.SECRET, prefix=prefix, key_hash=key_hash)
    now = timezone.now()
    card_ids = []
    for n in range(CARDS):
        card_id = f"bench-checkout-{n:02d}"
        Tradeline.objects.update_or_create(card_id=card_id, defaults=dict(
            bank_name=f"Bench Bank {n}", credit_limit=1_000_000, date_opened="2014-06", purchase_deadline="2030-01-01",
            reporting_period="1st-5th", stock=1_000_000, price=50_000 + n * 1_111, is_available=True, synced_at=now))
        card_ids.append(card_id)
    return key, card_ids


def _body(n: int, cards: list[str]) -> dict:
    return {"customer_email": f"bench{n}@example.com", "customer_name": "Bench Customer",
            "items": [{"card_id": cards[n % len(cards)], "quantity": 1 + n % 3}]}


def _checkout(client: httpx.Client, url: str, key: str, body: dict) -> bool:
    try:
        response = client.post(url, json=body, headers={"x-api-key": key})
    except httpx.HTTPError:
        return False
    return response.status_code == 201


def _throughput(url: str, key: str, cards: list[str]) -> tuple[float, list[float], int]:
    lock = threading.Lock()
    state = {"next": 0, "ok": 0, "failed": 0}
    latencies: list[float] = []
    deadline = time.perf_counter() + MAX_SECONDS

    def sender():
        with httpx.Client(timeout=30) as client:
            while time.perf_counter() < deadline:
                with lock:
                    if state["next"] >= CHECKOUTS:
                        return
                    n = state["next"]
                    state["next"] += 1
                t0 = time.perf_counter()
                ok = _checkout(client, url, key, _body(n, cards))
                with lock:
                    state["ok" if ok else "failed"] += 1
                    if ok:
                        latencies.append((time.perf_counter() - t0) * 1000)

    threads = [threading.Thread(target=sender) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return state["ok"] / (time.perf_counter() - started), latencies, state["failed"]


def _paced(url: str, key: str, cards: list[str], rate: int) -> tuple[list[float], int]:
    total = rate * LATENCY_SECONDS
    slots = list(range(total))
    slots.reverse()
    latencies: list[float] = []
    failed = [0]
    lock = threading.Lock()
    started = time.perf_counter() + 0.2

    def sender():
        with httpx.Client(timeout=30) as client:
            while True:
                with lock:
                    if not slots:
                        return
                    i = slots.pop()
                planned = started + i / rate
                wait = planned - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                ok = _checkout(client, url, key, _body(100_000 + i, cards))
                with lock:
                    if ok:
                        latencies.append((time.perf_counter() - planned) * 1000)
                    else:
                        failed[0] += 1

    threads = [threading.Thread(target=sender) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, failed[0]


def run(ctx: Context) -> list[Figure]:
    key, cards = _prepare()
    secret_key, webhook_secret = f"sk_test_{secrets.token_hex(12)}", f"whsec_{secrets.token_hex(16)}"
    stripe_port, web_port = _free_port(), _free_port()
    stripe_url = f"http://127.0.0.1:{stripe_port}"
    base_env = {**os.environ, "DATABASE_URL": ctx.database_url, "STRIPE_SECRET_KEY": secret_key,
                "STRIPE_WEBHOOK_SECRET": webhook_secret, "LOG_LEVEL": "WARNING", "DEBUG": "false"}
    stripe = subprocess.Popen([sys.executable, "-m", "tradeline", "stripe_sim", "--port", str(stripe_port),
                               "--expire-every", "0"], env=base_env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=_log_file("stripe"))
    web = None
    try:
        _wait_http(stripe_url + "/_sim/events", stripe, "the local Stripe server")
        web_env = {**base_env, "STRIPE_API_BASE": stripe_url, "TRADELINE_API_URL": "", "DB_CONN_MAX_AGE": "60",
                   "RATE_LIMIT_CHECKOUT": "1000000/60", "DJANGO_SETTINGS_MODULE": "config.settings"}
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        web = subprocess.Popen([gunicorn, "config.wsgi:application", "--bind", f"127.0.0.1:{web_port}", "--workers",
                                str(WORKERS), "--worker-class", "sync", "--log-level", "warning"], env=web_env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=_log_file("gunicorn"))
        base = f"http://127.0.0.1:{web_port}"
        _wait_http(base + "/health", web, "gunicorn")
        url = base + "/api/orders/checkout"
        with httpx.Client(timeout=30) as client:  # warm every worker's imports and connections
            for n in range(WORKERS * 4):
                _checkout(client, url, key, _body(900_000 + n, cards))
        print(f"   throughput: up to {CHECKOUTS} checkouts, {CLIENTS} clients, {WORKERS} gunicorn workers", flush=True)
        rate, closed_latencies, failed = _throughput(url, key, cards)
        paced_rate = max(1, min(RATE, int(rate / 2)))
        print(f"   latency: {paced_rate * LATENCY_SECONDS} checkouts at {paced_rate}/s", flush=True)
        latencies, paced_failed = _paced(url, key, cards, paced_rate)
    finally:
        if web is not None:
            _stop(web)
        _stop(stripe)
    return [
        Figure(f"checkout throughput ({CLIENTS} clients)", rate, "checkouts/s"),
        Figure(f"checkout latency p50 ({CLIENTS} clients, closed loop)", _percentile(closed_latencies, 50), "ms"),
        Figure(f"checkout latency p50 at {paced_rate}/s", _percentile(latencies, 50), "ms"),
        Figure(f"checkout latency p99 at {paced_rate}/s", _percentile(latencies, 99), "ms"),
        Figure("checkout requests failed (both runs)", failed + paced_failed, "requests", target="0",
               ok=failed + paced_failed == 0),
    ]
