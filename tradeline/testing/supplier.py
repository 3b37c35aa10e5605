"""Supplier simulator fixtures (supplier_sim): a real HTTP server on a free port per test."""

import secrets

import pytest


class SupplierSimHandle:
    """What tests use: `.url`, `.state`, faults, stock, orders, and `.sync()` (runs the catalog sync)."""

    def __init__(self, sim):
        self.sim = sim
        self.state = sim.state
        self.url = sim.url
        self.consumer_key = sim.consumer_key
        self.consumer_secret = sim.consumer_secret

    def orders(self) -> list[dict]:
        return self.state.orders()

    def requests(self) -> list[dict]:
        return list(self.state.requests)

    def set_faults(self, **kwargs) -> None:
        from tradeline.devtools.supplier_sim import Faults

        kwargs.setdefault("hang_seconds", 5.0)
        self.state.set_faults(Faults.from_dict(kwargs))

    def clear_faults(self) -> None:
        self.state.clear_faults()

    def set_stock(self, card_id: str, stock: int) -> None:
        self.state.set_stock(card_id, stock)

    def stock(self, card_id: str) -> int:
        return self.state.stock(card_id)

    def card_ids(self) -> list[str]:
        with self.state.lock:
            return list(self.state.tradelines)

    def client(self, **overrides):
        from django.conf import settings

        from tradeline.catalog.supplier.client import SupplierClient

        kwargs = dict(base_url=self.url, consumer_key=self.consumer_key, consumer_secret=self.consumer_secret,
                      timeout=settings.TRADELINE_TIMEOUT_SECONDS, max_retries=settings.TRADELINE_MAX_RETRIES,
                      backoff_seconds=settings.TRADELINE_RETRY_BACKOFF_SECONDS,
                      max_backoff_seconds=settings.TRADELINE_RETRY_MAX_BACKOFF_SECONDS)
        kwargs.update(overrides)
        return SupplierClient(**kwargs)

    def sync(self):
        from tradeline.catalog.services import catalog_sync

        return catalog_sync()


@pytest.fixture
def supplier_sim(settings):
    """A running supplier simulator (60 tradelines + 2 unreadable rows, seed 1) with settings pointed
    at it: short timeouts and backoff so fault tests stay fast."""
    from django.core.cache import cache

    from tradeline.devtools.supplier_sim import SupplierSimulator

    sim = SupplierSimulator(consumer_key=f"ck_{secrets.token_hex(8)}", consumer_secret=f"cs_{secrets.token_hex(8)}")
    sim.start()
    settings.TRADELINE_API_URL = sim.url
    settings.TRADELINE_CONSUMER_KEY = sim.consumer_key
    settings.TRADELINE_CONSUMER_SECRET = sim.consumer_secret
    settings.TRADELINE_TIMEOUT_SECONDS = 0.5
    settings.TRADELINE_MAX_RETRIES = 2
    settings.TRADELINE_RETRY_BACKOFF_SECONDS = 0.01
    settings.TRADELINE_RETRY_MAX_BACKOFF_SECONDS = 0.05
    cache.delete("catalog:sync-lock")
    try:
        yield SupplierSimHandle(sim)
    finally:
        sim.stop()
