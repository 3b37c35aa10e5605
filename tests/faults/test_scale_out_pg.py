"""Scale-out (PostgreSQL): two web processes (gunicorn) behind a round-robin balancer and two task
workers (`tradeline db_worker`, or Celery workers on the broker: each test runs on both task backends)
on one database, under a bounded load on 127.0.0.1: checkouts through
the API, then the local Stripe server paying or expiring each session and delivering its signed
events (some of them several times at once) through the balancer. Every order ends where it should,
each paid order has one commission and one supplier order, and the ledger agrees with Stripe."""

import itertools
import subprocess
import uuid
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.faults.conftest import ROOT, free_port, supplier_orders_for
from tests.faults.test_processes_pg import WEBHOOK_PATH, process_env, wait_for
from tradeline.ledger.reconcile import reconcile_run
from tradeline.brokers import keys
from tradeline.brokers.models import BrokerApiKey, KeyKind
from tradeline.orders.models import Order
from tradeline.payments.models import WebhookEvent
from tradeline.testing.agreements import agreement_fields
from tradeline.testing.processes import log_file
from tradeline.payouts.models import CommissionRecord

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CHECKOUTS = 30
CLIENTS = 6


class Balancer:
    """Round-robin HTTP proxy in front of the web processes (what a load balancer does)."""

    def __init__(self, upstreams: list[str]):
        balancer = self
        self.turn = itertools.cycle(upstreams)
        self.lock = threading.Lock()
        self.hits: dict[str, int] = dict.fromkeys(upstreams, 0)
        self.client = httpx.Client(timeout=30)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with balancer.lock:
                    upstream = next(balancer.turn)
                    balancer.hits[upstream] += 1
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                try:
                    answer = balancer.client.post(upstream + self.path, content=body, headers=headers)
                    status, content = answer.status_code, answer.content
                except httpx.HTTPError:
                    status, content = 502, b'{"error": "upstream unreachable"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.client.close()


def start_web(env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    with log_file("gunicorn") as log:
        proc = subprocess.Popen([gunicorn, "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers",
                                 "2", "--log-level", "warning"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=log, text=True)
    return proc, f"http://127.0.0.1:{port}"


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def secret_key(make_broker):
    broker = make_broker(share="17.25", markup_percent="9.5")
    key, prefix, key_hash = keys.new_key(keys.SECRET_PREFIX)
    BrokerApiKey.objects.create(broker=broker, kind=KeyKind.SECRET, prefix=prefix, key_hash=key_hash)
    return key


def test_two_web_processes_and_two_workers_lose_nothing_and_double_nothing(task_queue, supplier_sim, stripe_sim,
                                                                          secret_key):
    cards = supplier_sim.card_ids()[:5]
    for card in cards:
        supplier_sim.set_stock(card, 500)
    assert supplier_sim.sync().status == "SUCCEEDED"
    env = process_env(RATE_LIMIT_CHECKOUT="100000/60", RATE_LIMIT_CHECKOUT_KEY="200000/60", CATALOG_TTL_SECONDS=3600,
                      TRADELINE_TIMEOUT_SECONDS=5, TRADELINE_MAX_RETRIES=1, FULFILLMENT_BACKOFF_SECONDS=1, REDIS_URL="",
                      **task_queue.env())
    processes = []
    balancer = None
    try:
        webs = [start_web(env) for _ in range(2)]
        processes += [proc for proc, _ in webs]
        processes += [task_queue.start_worker(env) for _ in range(2)]
        for proc, url in webs:
            wait_for(lambda url=url: _answers(url), timeout=60, what=f"gunicorn at {url}", step=0.2)
        balancer = Balancer([url for _, url in webs])
        stripe_sim.set_webhook_url(balancer.url + WEBHOOK_PATH)

        consent = agreement_fields()

        def checkout(n: int) -> dict:
            body = {"customer_email": f"buyer{n}@example.com", "customer_name": f"Buyer {n}",
                    "items": [{"card_id": cards[n % len(cards)], "quantity": 1 + n % 3}], **consent}
            response = httpx.post(f"{balancer.url}/api/orders/checkout", json=body, timeout=30,
                                  headers={"x-api-key": secret_key})
            assert response.status_code == 201, response.text
            return response.json()

        def settle(n: int, created: dict) -> str:
            session = created["session_id"]
            if n % 5 == 4:
                stripe_sim.expire(session)
                return "expired"
            if n % 7 == 3:
                stripe_sim.decline(session)  # the customer tries another card
            stripe_sim.pay(session)
            if n % 3 == 0:  # the same event delivered three times at once, across both web processes
                completed = [e for e in stripe_sim.events("checkout.session.completed")
                             if e["data"]["object"]["id"] == session]
                assert stripe_sim.deliver_concurrently(completed[0]["id"], 3) == [200, 200, 200]
            return "paid"

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            created = list(pool.map(checkout, range(CHECKOUTS)))
            outcomes = list(pool.map(settle, range(CHECKOUTS), created))
        load_seconds = time.perf_counter() - started
        paid_ids = {c["order_id"] for c, o in zip(created, outcomes, strict=True) if o == "paid"}
        expired_ids = {c["order_id"] for c, o in zip(created, outcomes, strict=True) if o == "expired"}

        def settled() -> bool:
            done = Order.objects.filter(pk__in=paid_ids, status="COMPLETED").count()
            return done == len(paid_ids)

        wait_for(settled, timeout=90, what="every paid order to be fulfilled", step=0.3)
        # every web process and worker served to the end (none of them exited on the way)
        assert [proc.poll() for proc in processes] == [None] * len(processes)
    finally:
        for proc in processes:
            proc.terminate()
        for proc in processes:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if balancer is not None:
            balancer.stop()

    print(f"\nscale-out ({task_queue.name} task queue): {CHECKOUTS} checkouts and their payments in {load_seconds:.1f}s; "
          f"balancer hits {sorted(balancer.hits.values())}", file=sys.stderr)
    assert min(balancer.hits.values()) >= CHECKOUTS // 2  # both web processes served
    assert Order.objects.count() == CHECKOUTS
    assert set(Order.objects.filter(status="CANCELLED").values_list("pk", flat=True).iterator()) == {
        uuid.UUID(i) for i in expired_ids}
    assert CommissionRecord.objects.count() == len(paid_ids)
    for order in Order.objects.filter(pk__in=paid_ids):
        assert len(supplier_orders_for(supplier_sim, order)) == 1, order.order_number
    assert len(supplier_sim.orders()) == len(paid_ids)
    failed = [d for record in stripe_sim.event_records() for d in record["deliveries"] if d["status"] != 200]
    assert failed == []
    assert WebhookEvent.objects.exclude(status__in=("PROCESSED", "IGNORED")).count() == 0
    report = reconcile_run(stripe=True)
    assert [d.line() for d in report.discrepancies] == []
    assert report.stripe_errors == 0
