"""Signed Stripe webhooks against a real gunicorn process on PostgreSQL.

Every event is a `checkout.session.completed` (payment_status "paid") for its own PENDING broker
order, so each request runs the whole paid path: signature check, event row insert, order lock,
paid transition, commission, analytics increment, activity log, fulfillment task row, one commit.

1. throughput: CLIENTS concurrent senders, as fast as the server answers (bounded in count and time);
   compared with the pgbench TPC-B TPS measured in the same run (target >= 0.25 x pgbench);
   next to it, the same driver against GET /health on the same gunicorn (one SELECT 1 and a cache
   round trip: the trivial endpoint ceiling, what this machine's Django/gunicorn stack does at best);
2. latency: an open-loop schedule at half the capacity measured in 1. (each request sent at its
   planned time, whether or not earlier ones have answered), p50/p99 of the response time (target
   p99 < 50 ms). A fixed rate would overload a slower machine and measure its queue, not the path.

Printed as ratios that survive a noisy machine (issue 13): webhook capacity / GET /health capacity
on the same server (target >= 0.25), and the p99 at half capacity.

BENCH_WEBHOOK_WORKERS sets the number of gunicorn workers (default 4).
"""

import json
import os
import secrets
import time

import httpx

from bench.common import Context, Figure, GunicornServer, closed_loop, get_ok, open_loop, percentile

TITLE = "webhooks (signed checkout.session.completed, paid path)"
WORKERS = int(os.environ.get("BENCH_WEBHOOK_WORKERS", "4"))
BROKERS = 20
CLIENTS = 8
THROUGHPUT_EVENTS = 3_000
THROUGHPUT_MAX_SECONDS = 20.0
PACED_EVENTS = 1_000  # prepared for the latency run; it sends at most LATENCY_SECONDS x its rate
LATENCY_SECONDS = 10
LATENCY_GRACE_SECONDS = 20  # the latency run stops sending this long after its schedule ends
PACED_SENDERS = 16  # enough to keep the schedule while some requests are slow
WEBHOOK_PATH = "/api/orders/webhook/stripe"


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


def _post(client: httpx.Client, url: str, body: bytes, signature: str) -> bool:
    try:
        response = client.post(url, content=body, headers={"Content-Type": "application/json",
                                                           "Stripe-Signature": signature})
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.json().get("status") == "processed"


def _posting(url: str, signed: list[tuple[bytes, str]]):
    """The request function posting signed[n]."""

    def post(client: httpx.Client, n: int) -> bool:
        return _post(client, url, *signed[n])

    return post


def run(ctx: Context) -> list[Figure]:
    secret = f"whsec_bench_{secrets.token_hex(16)}"
    paced_count = PACED_EVENTS
    print(f"   preparing {THROUGHPUT_EVENTS + paced_count + 50} orders ...", flush=True)
    orders = _orders(THROUGHPUT_EVENTS + paced_count + 50)
    warmup, rest = orders[:50], orders[50:]
    warmup_events = _signed_events(warmup, secret)
    throughput_events = _signed_events(rest[:THROUGHPUT_EVENTS], secret)
    paced_events = _signed_events(rest[THROUGHPUT_EVENTS:], secret)
    env = {"DATABASE_URL": ctx.database_url, "STRIPE_WEBHOOK_SECRET": secret, "STRIPE_WEBHOOK_SECRETS_PREVIOUS": ""}
    bounds = dict(clients=CLIENTS, max_seconds=THROUGHPUT_MAX_SECONDS)
    with GunicornServer(env, WORKERS, name="webhooks-gunicorn") as server:
        url = server.url + WEBHOOK_PATH
        # connections and imports warm in every worker
        closed_loop(_posting(url, warmup_events), count=len(warmup_events), **bounds)
        print(f"   throughput: up to {THROUGHPUT_EVENTS} events, {CLIENTS} clients, {WORKERS} gunicorn workers",
              flush=True)
        closed = closed_loop(_posting(url, throughput_events), count=len(throughput_events), **bounds)
        print(f"   trivial endpoint ceiling: up to {THROUGHPUT_EVENTS} GET /health, same clients and workers",
              flush=True)
        health = closed_loop(get_ok(server.url + "/health"), count=THROUGHPUT_EVENTS, **bounds)
        rate = max(1.0, closed.ok_per_second / 2)
        count = min(len(paced_events), max(10, round(rate * LATENCY_SECONDS)))
        print(f"   latency: {count} events at {rate:.0f}/s (half the measured capacity)", flush=True)
        paced = open_loop(_posting(url, paced_events), count=count, rate=rate, senders=PACED_SENDERS,
                          grace_seconds=LATENCY_GRACE_SECONDS)
    half = rate
    rate, failed = closed.ok_per_second, closed.failed + paced.failed
    health_rate = health.ok_per_second
    pgbench = float(ctx.shared.get("pgbench_tps") or 0.0)
    p50, p99 = percentile(paced.latencies, 50), percentile(paced.latencies, 99)
    figures = [
        Figure(f"webhook throughput ({CLIENTS} clients)", rate, "events/s",
               target=f">= {0.25 * pgbench:,.0f} (0.25 x pgbench)" if pgbench else "",
               ok=(rate >= 0.25 * pgbench and closed.failed == 0) if pgbench else None),
        Figure(f"GET /health throughput, trivial endpoint ceiling ({CLIENTS} clients)", health_rate, "req/s"),
        Figure("webhook capacity / GET /health capacity", rate / health_rate if health_rate else 0.0, "x",
               target=">= 0.25", ok=(rate / health_rate >= 0.25) if health_rate else None),
        Figure("webhook throughput / pgbench TPS", rate / pgbench if pgbench else 0.0, "x",
               target=">= 0.25", ok=(rate / pgbench >= 0.25) if pgbench else None),
        Figure(f"webhook latency p50 at half capacity ({half:.0f} req/s)", p50, "ms"),
        Figure(f"webhook latency p99 at half capacity ({half:.0f} req/s)", p99, "ms", target="< 50 ms",
               ok=p99 < 50 and paced.failed == 0),
        Figure("webhook events processed (throughput run)", closed.ok, "events"),
        Figure("webhook requests failed (both runs)", failed, "requests", target="0", ok=failed == 0),
    ]
    if health.failed:
        figures.insert(2, Figure("GET /health requests failed (ceiling run)", health.failed, "requests"))
    if pgbench:
        figures.insert(0, Figure("pgbench TPC-B (same run)", pgbench, "tps"))
    return figures
