"""Checkout creation: POST /api/orders/checkout on a real gunicorn process (PostgreSQL), each request
pricing the cart against the catalog, creating the order and its items, and creating a Checkout
Session at the local Stripe server (its own process, over HTTP) before answering.

1. throughput: CLIENTS concurrent senders, bounded in count (CHECKOUTS) and time;
2. latency: an open-loop schedule of RATE checkouts/s (each sent at its planned time), p50/p99.
"""

import os
import secrets
import subprocess
import sys

import httpx

from bench.common import (ROOT, Context, Figure, GunicornServer, closed_loop, free_port, log_path, open_loop,
                          percentile, stop_process, wait_until_answering)

TITLE = "checkout (API -> order -> local Stripe session)"
WORKERS = 4
CLIENTS = 8
CHECKOUTS = 1_500
MAX_SECONDS = 20.0
RATE = 25  # checkouts per second in the latency run (at most half the measured throughput)
LATENCY_SECONDS = 8
PACED_SENDERS = 8
CARDS = 20


AGREEMENT_VERSION = 1  # the current Tradeline User Agreement, read by _prepare


def _prepare() -> tuple[str, list[str]]:
    """A broker with a secret key and a fresh slice of the catalog; returns (key, card ids)."""
    from django.utils import timezone

    from tradeline.brokers import keys
    from tradeline.brokers.models import BrokerApiKey, KeyKind
    from tradeline.catalog.models import Tradeline
    from tradeline.testing.agreements import current_agreement
    from tradeline.testing.factories import make_broker

    global AGREEMENT_VERSION
    AGREEMENT_VERSION = current_agreement().version
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
            "items": [{"card_id": cards[n % len(cards)], "quantity": 1 + n % 3}],
            "agreement_version": AGREEMENT_VERSION, "agreement_accepted": True}


def _checkout(client: httpx.Client, url: str, key: str, body: dict) -> bool:
    try:
        response = client.post(url, json=body, headers={"x-api-key": key})
    except httpx.HTTPError:
        return False
    return response.status_code == 201


def run(ctx: Context) -> list[Figure]:
    key, cards = _prepare()
    secret_key, webhook_secret = f"sk_test_{secrets.token_hex(12)}", f"whsec_{secrets.token_hex(16)}"
    stripe_port = free_port()
    stripe_url = f"http://127.0.0.1:{stripe_port}"
    shared_env = {"DATABASE_URL": ctx.database_url, "STRIPE_SECRET_KEY": secret_key,
                  "STRIPE_WEBHOOK_SECRET": webhook_secret, "LOG_LEVEL": "WARNING", "DEBUG": "false"}
    stripe_log = log_path("checkout-stripe")
    with stripe_log.open("w") as log:
        stripe = subprocess.Popen([sys.executable, "-m", "tradeline", "stripe_sim", "--port", str(stripe_port),
                                   "--expire-every", "0"], env={**os.environ, **shared_env}, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_until_answering(stripe_url + "/_sim/events", stripe, "the local Stripe server", stripe_log)
        web_env = {**shared_env, "STRIPE_API_BASE": stripe_url, "TRADELINE_API_URL": "",
                   "RATE_LIMIT_CHECKOUT": "1000000/60", "RATE_LIMIT_CHECKOUT_KEY": "2000000/60"}
        with GunicornServer(web_env, WORKERS, name="checkout-gunicorn") as web:
            url = web.url + "/api/orders/checkout"

            def checkout(client: httpx.Client, n: int) -> bool:
                return _checkout(client, url, key, _body(n, cards))

            def paced_checkout(client: httpx.Client, i: int) -> bool:
                return _checkout(client, url, key, _body(100_000 + i, cards))

            with httpx.Client(timeout=30) as client:  # warm every worker's imports and connections
                for n in range(WORKERS * 4):
                    _checkout(client, url, key, _body(900_000 + n, cards))
            print(f"   throughput: up to {CHECKOUTS} checkouts, {CLIENTS} clients, {WORKERS} gunicorn workers",
                  flush=True)
            closed = closed_loop(checkout, count=CHECKOUTS, clients=CLIENTS, max_seconds=MAX_SECONDS, timeout=30)
            rate = closed.ok_per_second
            paced_rate = max(1, min(RATE, int(rate / 2)))
            print(f"   latency: {paced_rate * LATENCY_SECONDS} checkouts at {paced_rate}/s", flush=True)
            paced = open_loop(paced_checkout, count=paced_rate * LATENCY_SECONDS, rate=paced_rate,
                              senders=PACED_SENDERS, timeout=30)
    finally:
        stop_process(stripe)
    failed = closed.failed + paced.failed
    return [
        Figure(f"checkout throughput ({CLIENTS} clients)", rate, "checkouts/s"),
        Figure(f"checkout latency p50 ({CLIENTS} clients, closed loop)", percentile(closed.latencies, 50), "ms"),
        Figure(f"checkout latency p50 at {paced_rate}/s", percentile(paced.latencies, 50), "ms"),
        Figure(f"checkout latency p99 at {paced_rate}/s", percentile(paced.latencies, 99), "ms"),
        Figure("checkout requests failed (both runs)", failed, "requests", target="0", ok=failed == 0),
    ]
