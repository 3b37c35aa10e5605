"""Widget: time from widget.js starting to run until the first cards are drawn, with a 10,000-tradeline
catalog, in Debian's chromium (headless) against gunicorn on loopback. The widget records the time
itself (`TradelineWidget.timings.firstCardsMs`, measured at the first animation frame after the cards
are in the DOM); the broker's price list is warm, as it is for every visitor but the first after a
catalog change. Skipped when /usr/bin/chromium is missing (`make browsers`)."""

import secrets
import statistics
from pathlib import Path

import httpx

from bench.common import Context, Figure, GunicornServer

TITLE = "widget (first cards, 10,000 tradelines)"
CATALOG_SIZE = 10_000
LOADS = 7
BUDGET_MS = 500
CHROMIUM = Path("/usr/bin/chromium")
BANKS = ["Chase", "Citi", "Discover", "Capital One", "Wells Fargo", "Barclays", "USAA", "PNC", "Truist", "Regions"]


def _catalog() -> None:
    from django.utils import timezone

    from tradeline.catalog.models import Tradeline
    from tradeline.catalog.memo import forget_catalog_memo

    now = timezone.now()
    Tradeline.objects.all().delete()
    Tradeline.objects.bulk_create([
        Tradeline(card_id=str(10001 + i), bank_name=BANKS[i % len(BANKS)], credit_limit=(1_000 + i % 40 * 500) * 100,
                  date_opened=f"{2001 + i % 24}-{1 + i % 12:02d}", purchase_deadline="2026-12-20",
                  reporting_period=f"{1 + i % 28}th - {4 + i % 28}th of the month", stock=i % 9,
                  price=20_000 + (i * 37) % 150_000, synced_at=now, image="")
        for i in range(CATALOG_SIZE)
    ], batch_size=2_000)
    forget_catalog_memo()


def run(ctx: Context) -> list[Figure]:
    if not CHROMIUM.exists():
        print(f"   skipped: {CHROMIUM} is missing (make browsers)")
        return []
    from playwright.sync_api import sync_playwright

    from tradeline.brokers.services import broker_admin_update, broker_keys_rotate
    from tradeline.testing.factories import make_broker

    _catalog()
    broker = make_broker(name="Bench Widget Broker", email=f"bench-widget-{secrets.token_hex(4)}@example.com")
    key = broker_keys_rotate(broker_id=broker.pk)["publishable_key"]
    env = {"DATABASE_URL": ctx.database_url, "ALLOWED_HOSTS": "127.0.0.1", "TRADELINE_API_URL": "",
           "RATE_LIMIT_CATALOG": "100000000/60"}
    times: list[float] = []
    try:
        with GunicornServer(env, 2, name="widget-gunicorn") as server:
            broker_admin_update(broker_id=broker.pk, allowed_origins=[server.url])
            warm = httpx.get(f"{server.url}/api/public/pricing", headers={"x-api-key": key}, timeout=60)
            assert warm.status_code == 200 and len(warm.json()["tradelines"]) == CATALOG_SIZE, warm.text[:200]
            httpx.get(f"{server.url}/api/public/pricing", headers={"x-api-key": key}, timeout=60)  # both workers
            html = (f'<!doctype html><html lang="en"><head><title>bench</title></head><body>'
                    f'<script src="{server.url}/widget.js" data-key="{key}"></script></body></html>')
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                     args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
                try:
                    for _ in range(LOADS):
                        context = browser.new_context(viewport={"width": 1280, "height": 860})
                        page = context.new_page()
                        page.route(f"{server.url}/bench-host", lambda route: route.fulfill(
                            status=200, content_type="text/html", body=html))
                        page.goto(f"{server.url}/bench-host")
                        page.wait_for_function("() => window.TradelineWidget && TradelineWidget.timings.firstCardsMs > 0",
                                               timeout=30_000)
                        times.append(page.evaluate("() => TradelineWidget.timings.firstCardsMs"))
                        context.close()
                finally:
                    browser.close()
    finally:
        broker.delete()
    median = statistics.median(times)
    return [
        Figure(f"first cards after widget.js runs, median of {LOADS}", median, "ms", f"<= {BUDGET_MS} ms",
               median <= BUDGET_MS),
        Figure("first cards, slowest load", max(times), "ms"),
    ]
