"""Every page and list on a million orders (PostgreSQL, gunicorn with 2 workers).

The data (bench/scale_data.py): BENCH_SCALE_ORDERS orders (default 1,000,000) over 24 months for
1,000 brokers, with items, commissions, monthly payouts and daily figures, built set-based in the
database. BENCH_SCALE_REUSE=1 keeps data of the same size from an earlier run.

Each page: WARMUP_REQUESTS warm-up requests, then up to REQUESTS sequential requests (at most PAGE_SECONDS per
page, at least 3), p50 and p95 of the response time; each p95 also as a multiple of `GET /health`'s p95
on the same server in the same run. Targets: lists p95 < 250 ms, detail pages p95 < 100 ms. The RSS
of the web processes is read before and after (it must stay flat). Then `tradeline reconcile
--skip-stripe` over the same orders: wall time and peak RSS (< 90 s, < 300 MB).
"""

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx
import redis
from django.db import connection
from django.utils import timezone

from bench import scale_data
from bench.common import Context, Figure, GunicornServer, percentile

TITLE = "scale (every page on a million orders)"
ORDERS = int(os.environ.get("BENCH_SCALE_ORDERS", "1000000"))
REUSE = os.environ.get("BENCH_SCALE_REUSE") == "1"
REQUESTS = int(os.environ.get("BENCH_SCALE_REQUESTS", "15"))
PAGE_SECONDS = 30.0
WORKERS = 2
# Warm-up requests per page: each lands on whichever web process accepts it first, and a process's
# first request of a page also compiles its templates; with 5 per process, the chance that one of
# them is still cold when the measurement starts is below 1 %.
WARMUP_REQUESTS = 5 * WORKERS
LIST_P95_MS = 250.0
DETAIL_P95_MS = 100.0
RECONCILE_SECONDS = 90.0
RECONCILE_RSS_MB = 300.0
ADMIN_EMAIL = "bench-scale-admin@bench.local"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


@dataclass
class Page:
    name: str
    path: str
    auth: str  # "admin" (session), "portal" (broker session), "token" (admin API), "key" (broker secret key)
    detail: bool = False


def _have_data() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'orders_order'")
        row = cursor.fetchone()
    return bool(row) and abs(int(row[0]) - ORDERS) < ORDERS * 0.02


def _credentials() -> dict:
    """An admin session, a broker portal session (the big broker), an admin API token, a secret key."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore

    from tradeline.brokers import keys
    from tradeline.brokers.auth import issue_admin_token
    from tradeline.brokers.models import BrokerApiKey, KeyKind
    from tradeline.portal.session import SESSION_KEY as PORTAL_KEY
    from tradeline.portal.session import SESSION_PASSWORD_KEY, _password_marker

    user_model = get_user_model()
    admin = user_model.objects.filter(email=ADMIN_EMAIL).first()
    if admin is None:
        admin = user_model.objects.create_superuser(username=ADMIN_EMAIL, email=ADMIN_EMAIL,
                                                    password=keys.new_key("pw_")[0])
    session = SessionStore()
    session.update({SESSION_KEY: str(admin.pk), BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                    HASH_SESSION_KEY: admin.get_session_auth_hash()})
    session.create()
    broker = scale_data.scale_brokers()[0]
    if not broker.password:
        broker.password = make_password(keys.new_key("pw_")[0])
        broker.save(update_fields=["password"])
    portal = SessionStore()
    portal.update({PORTAL_KEY: str(broker.pk), SESSION_PASSWORD_KEY: _password_marker(broker)})
    portal.create()
    token, _ = issue_admin_token(admin, 3600)
    key, prefix, key_hash = keys.new_key(keys.SECRET_PREFIX)
    BrokerApiKey.objects.filter(broker=broker, kind=KeyKind.SECRET, revoked_at__isnull=True).update(
        revoked_at=timezone.now())  # an earlier run's key
    BrokerApiKey.objects.create(broker=broker, kind=KeyKind.SECRET, prefix=prefix, key_hash=key_hash)
    return {"admin": {"cookies": {"sessionid": session.session_key}},
            "portal": {"cookies": {"sessionid": portal.session_key}},
            "token": {"headers": {"Authorization": f"Bearer {token}"}},
            "key": {"headers": {"x-api-key": key}},
            "broker": broker}


def _pages(broker) -> list[Page]:
    from tradeline.orders.models import Order
    from tradeline.payouts.models import Payout

    order = Order.objects.filter(broker=broker, status="COMPLETED").order_by("-created_at")[1000]
    number = Order.objects.order_by("created_at").values_list("order_number", flat=True)[ORDERS // 3]
    email = Order.objects.order_by("created_at").values_list("customer_email", flat=True)[ORDERS // 2]
    payout = Payout.objects.filter(broker=broker).order_by("-period_start").first()
    pages = [
        Page("admin overview", "/admin/", "admin"),
        Page("admin order list", "/admin/orders/order/", "admin"),
        Page("admin order list, status=CANCELLED", "/admin/orders/order/?status__exact=CANCELLED", "admin"),
        Page("admin order list, search order number", f"/admin/orders/order/?q={number}", "admin"),
        Page("admin order list, search email", f"/admin/orders/order/?q={email}", "admin"),
        Page("admin order detail", f"/admin/orders/order/{order.pk}/change/", "admin", detail=True),
        Page("admin broker list", "/admin/brokers/broker/", "admin"),
        Page("admin payout list", "/admin/payouts/payout/", "admin"),
        Page("admin payout detail", f"/admin/payouts/payout/{payout.pk}/change/", "admin", detail=True),
        Page("portal dashboard", "/portal/", "portal"),
        Page("portal orders, page 1", "/portal/orders/", "portal"),
        Page("portal orders, page 500", "/portal/orders/?page=500", "portal"),
        Page("portal payouts", "/portal/payouts/", "portal"),
        Page("API /api/orders, first page", "/api/orders?limit=20", "token"),
        Page("API /api/orders, page 2,000", "/api/orders?limit=20&page=2000", "token"),
        Page("API /api/orders/broker, first page", "/api/orders/broker?limit=20", "key"),
        Page("API /api/orders/broker, page 500", "/api/orders/broker?limit=20&page=500", "key"),
    ]
    return pages + _cursor_pages()


def _cursor_pages() -> list[Page]:
    """Deep pages by cursor, where the API offers one (the `next` of a page 2,000 deep)."""
    try:
        from tradeline.orders.list_selectors import order_cursor_at
    except ImportError:
        return []
    broker = scale_data.scale_brokers()[0]
    return [
        Page("API /api/orders, cursor 40,000 deep", f"/api/orders?limit=20&cursor={order_cursor_at(40_000)}",
             "token"),
        Page("API /api/orders/broker, cursor 10,000 deep",
             f"/api/orders/broker?limit=20&cursor={order_cursor_at(10_000, broker=broker)}", "key"),
    ]


def _measure(client: httpx.Client, url: str, creds: dict) -> tuple[list[float], int]:
    kwargs = {"headers": creds.get("headers"), "cookies": creds.get("cookies")}
    for _ in range(WARMUP_REQUESTS):
        first = client.get(url, **kwargs)
        if first.status_code != 200:
            raise RuntimeError(f"GET {url} -> {first.status_code}: {first.text[:300]}")
    times: list[float] = []
    deadline = time.perf_counter() + PAGE_SECONDS
    while len(times) < REQUESTS and (len(times) < 3 or time.perf_counter() < deadline):
        t0 = time.perf_counter()
        response = client.get(url, **kwargs)
        times.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} -> {response.status_code}")
    return times, len(first.content)


def _worker_rss_mb(server: GunicornServer) -> float:
    """The largest RSS among the gunicorn worker processes (children of the master)."""
    out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(server.proc.pid)], capture_output=True, text=True)
    values = [int(x) for x in out.stdout.split()]
    return max(values) / 1024.0 if values else 0.0


RSS_PROBE = (
    "import resource, sys\n"
    "from tradeline.__main__ import main\n"
    "sys.argv = ['tradeline', 'reconcile', '--skip-stripe', '--quiet']\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
)


def _reconcile() -> tuple[float, float, str]:
    env = dict(os.environ, LOG_LEVEL="WARNING")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", RSS_PROBE], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    peak = re.search(r"PEAK_RSS_KB (\d+)", result.stderr)
    summary = (result.stdout.strip().splitlines() or [""])[-1]
    if peak is None:
        raise RuntimeError(f"reconcile failed: {result.stderr[-2000:]}")
    return seconds, int(peak.group(1)) / 1024.0, f"exit {result.returncode}: {summary[:200]}"


def _shared_cache_env() -> dict[str, str]:
    """As deployed (docs/deployment.md): the web processes share Redis, so a cached list summary is
    computed once a minute, not once per process. Emptied first: the first computation is measured.
    Without a reachable Redis, each process's local memory (and the first request of each pays)."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).flushdb()
    except redis.RedisError:
        print(f"   no Redis at {REDIS_URL}: a local-memory cache in each web process", flush=True)
        return {}
    print(f"   cache: Redis at {REDIS_URL} (emptied), shared by the web processes", flush=True)
    return {"REDIS_URL": REDIS_URL}


def run(ctx: Context) -> list[Figure]:
    if connection.vendor != "postgresql":
        raise RuntimeError("the scale bench needs PostgreSQL")
    if REUSE and _have_data():
        print(f"   reusing the {ORDERS:,} orders already built", flush=True)
    else:
        seconds = scale_data.build(ORDERS, progress=lambda line: print(line, flush=True))
        print(f"   built {ORDERS:,} orders for {scale_data.BROKERS:,} brokers in {seconds:.0f}s", flush=True)
    creds = _credentials()
    pages = _pages(creds["broker"])
    figures: list[Figure] = []
    env = {"DATABASE_URL": ctx.database_url, **_shared_cache_env()}
    with GunicornServer(env, WORKERS, name="scale-gunicorn") as server, \
            httpx.Client(base_url=server.url, timeout=120) as client:
        health_times, _ = _measure(client, "/health", {})
        health_times += _measure(client, "/health", {})[0]
        health_p95 = percentile(health_times, 95)
        rss_before = _worker_rss_mb(server)
        figures.append(Figure("GET /health p95 (the unit of the ratios)", health_p95, "ms"))
        for page in pages:
            times, size = _measure(client, page.path, creds.get(page.auth, {}))
            p50, p95 = percentile(times, 50), percentile(times, 95)
            target = DETAIL_P95_MS if page.detail else LIST_P95_MS
            print(f"   {page.name:<44} p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  = {p95 / health_p95:6.1f} x /health"
                  f"  ({len(times)} requests, {size:,} bytes)", flush=True)
            figures.append(Figure(f"{page.name} p50", p50, "ms"))
            figures.append(Figure(f"{page.name} p95", p95, "ms", target=f"< {target:.0f} ms", ok=p95 < target))
            figures.append(Figure(f"{page.name} p95 / GET /health p95", p95 / health_p95, "x"))
        rss_after = _worker_rss_mb(server)
    figures.append(Figure("web process RSS before the pages", rss_before, "MB"))
    figures.append(Figure("web process RSS after the pages", rss_after, "MB", target="flat (< +50 MB)",
                          ok=rss_after - rss_before < 50))
    seconds, rss_mb, outcome = _reconcile()
    print(f"   reconcile --skip-stripe: {outcome}", flush=True)
    figures.append(Figure(f"reconcile --skip-stripe, {ORDERS:,} orders", seconds, "s",
                          target=f"< {RECONCILE_SECONDS:.0f} s", ok=seconds < RECONCILE_SECONDS))
    figures.append(Figure("reconcile --skip-stripe peak RSS", rss_mb, "MB", target=f"< {RECONCILE_RSS_MB:.0f} MB",
                          ok=rss_mb < RECONCILE_RSS_MB))
    return figures
