"""Catalog: sync time for 10,000 simulated tradelines, and cached pricing throughput compared with
/health served by the same gunicorn server in the same run."""

import os
import secrets
import subprocess
import sys
import time

import httpx

from bench.common import (ROOT, Context, Figure, GunicornServer, closed_loop, free_port, get_ok, stop_process,
                          wait_until_answering)

TITLE = "catalog (sync, cached pricing)"
SYNC_SIZE = 10_000
PRICING_CATALOG_SIZE = 60  # a realistic widget catalog (the demo size)
WORKERS = 2
THREADS = 8
REQUESTS = 2_000  # per measured run and endpoint
MAX_SECONDS = 20.0  # per measured run: the load is bounded in count and time


def _load(url: str, headers: dict, total: int, seconds: float) -> tuple[float, int]:
    """Answered requests/s over `total` requests from THREADS threads (stops early after `seconds`); errors."""
    load = closed_loop(get_ok(url, headers), count=total, clients=THREADS, max_seconds=seconds)
    return (load.ok + load.failed) / load.seconds, load.failed


class _SimProcess:
    """The supplier simulator in its own process (as a remote supplier would be), driven over HTTP."""

    def __init__(self):
        self.key, self.secret = f"ck_{secrets.token_hex(8)}", f"cs_{secrets.token_hex(8)}"
        port = free_port()
        self.root = f"http://127.0.0.1:{port}"
        self.url = f"{self.root}/wp-json/wc/v3"
        env = {**os.environ, "TRADELINE_CONSUMER_KEY": self.key, "TRADELINE_CONSUMER_SECRET": self.secret}
        self.proc = subprocess.Popen([sys.executable, "-m", "tradeline", "supplier_sim", "--port", str(port),
                                      "--catalog-size", "0"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        self.http = httpx.Client(timeout=60)
        try:
            wait_until_answering(f"{self.root}/_sim/state", self.proc, "the supplier simulator")
        except BaseException:
            self.stop()
            raise

    def reset(self, size: int, bad_rows: int) -> None:
        self.http.post(f"{self.root}/_sim/reset", json={"catalog_size": size, "bad_rows": bad_rows}).raise_for_status()

    def set_stock(self, card_id: str, stock: int) -> None:
        self.http.post(f"{self.root}/_sim/stock", json={"card_id": card_id, "stock": stock}).raise_for_status()

    def stop(self) -> None:
        self.http.close()
        stop_process(self.proc)


def _sync_figures(sim: _SimProcess) -> list[Figure]:
    from tradeline.catalog.models import Tradeline
    from tradeline.catalog.services import catalog_sync

    sim.reset(SYNC_SIZE, 20)
    Tradeline.objects.all().delete()
    started = time.perf_counter()
    sync = catalog_sync()
    first = time.perf_counter() - started
    assert sync.status == "SUCCEEDED" and sync.rows_stored == SYNC_SIZE, sync.error
    for n in range(0, SYNC_SIZE, 20):  # 500 changed stock levels
        sim.set_stock(str(10001 + n), 20 + n % 7)
    started = time.perf_counter()
    sync = catalog_sync()
    changed = time.perf_counter() - started
    started = time.perf_counter()
    catalog_sync()
    unchanged = time.perf_counter() - started
    return [
        Figure(f"catalog sync, {SYNC_SIZE:,} tradelines, empty table", first, "s", "< 5 s", first < 5),
        Figure(f"catalog re-sync, {SYNC_SIZE:,} tradelines, 500 changed", changed, "s", "< 5 s", changed < 5),
        Figure(f"catalog re-sync, {SYNC_SIZE:,} tradelines, unchanged", unchanged, "s"),
    ]


def _pricing_figures(ctx: Context, sim: _SimProcess) -> list[Figure]:
    from tradeline.brokers.services import broker_keys_rotate
    from tradeline.catalog.models import Tradeline
    from tradeline.catalog.services import catalog_sync
    from tradeline.testing.factories import make_broker

    sim.reset(PRICING_CATALOG_SIZE, 2)
    Tradeline.objects.all().delete()
    catalog_sync()
    broker = make_broker(name="Bench Broker", email=f"bench-{secrets.token_hex(4)}@example.com")
    key = broker_keys_rotate(broker_id=broker.pk)["publishable_key"]
    env = {
        "DATABASE_URL": ctx.database_url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "TRADELINE_API_URL": sim.url,
        "TRADELINE_CONSUMER_KEY": sim.key,
        "TRADELINE_CONSUMER_SECRET": sim.secret,
        "RATE_LIMIT_CATALOG": "100000000/60",  # the limiter still counts every request, it just never refuses
    }
    try:
        with GunicornServer(env, WORKERS, name="catalog-gunicorn") as server:
            pricing = (f"{server.url}/api/public/pricing", {"x-api-key": key})
            health = (f"{server.url}/health", {})
            check = httpx.get(pricing[0], headers=pricing[1])
            assert check.status_code == 200 and len(check.json()["tradelines"]) == PRICING_CATALOG_SIZE, \
                check.text[:300]
            _load(*pricing, 200, 5)  # warm up both endpoints (and fill the per-broker cache)
            _load(*health, 200, 5)
            runs = {"health": [], "pricing": []}
            errors = 0
            for _ in range(2):  # alternate, so drift on the machine hits both alike
                for name, (url, headers) in (("health", health), ("pricing", pricing)):
                    rps, errs = _load(url, headers, REQUESTS, MAX_SECONDS)
                    runs[name].append(rps)
                    errors += errs
        health_rps = sum(runs["health"]) / 2
        pricing_rps = sum(runs["pricing"]) / 2
    finally:
        broker.delete()
    ratio = pricing_rps / health_rps if health_rps else 0.0
    note = f"gunicorn {WORKERS} workers, {THREADS} client threads"
    return [
        Figure(f"GET /health ({note})", health_rps, "req/s"),
        Figure(f"GET /api/public/pricing, cached, {PRICING_CATALOG_SIZE} rows", pricing_rps, "req/s"),
        Figure("pricing / health throughput ratio", ratio, "x", ">= 0.5", ratio >= 0.5),
        Figure("failed requests during the load", errors, "", "0", errors == 0),
    ]


def run(ctx: Context) -> list[Figure]:
    from django.conf import settings

    sim = _SimProcess()
    saved = {name: getattr(settings, name) for name in
             ("TRADELINE_API_URL", "TRADELINE_CONSUMER_KEY", "TRADELINE_CONSUMER_SECRET", "TRADELINE_TIMEOUT_SECONDS")}
    settings.TRADELINE_API_URL = sim.url
    settings.TRADELINE_CONSUMER_KEY = sim.key
    settings.TRADELINE_CONSUMER_SECRET = sim.secret
    settings.TRADELINE_TIMEOUT_SECONDS = 60
    try:
        return _sync_figures(sim) + _pricing_figures(ctx, sim)
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)
        sim.stop()
