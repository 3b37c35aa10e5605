"""Catalog sync from the simulator: storage, removals, failures, lazy refresh, staleness, command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tradeline.catalog.models import CatalogSync, Tradeline
from tradeline.catalog.selectors import checkout_catalog
from tradeline.catalog.services import catalog_sync
from tradeline.core.errors import ApplicationError

pytestmark = pytest.mark.django_db


def _age_catalog(seconds: int) -> None:
    Tradeline.objects.update(synced_at=timezone.now() - timedelta(seconds=seconds))


def test_sync_stores_the_feed(supplier_sim):
    sync = supplier_sim.sync()
    assert (sync.status, sync.rows_received, sync.rows_stored, sync.rows_skipped) == ("SUCCEEDED", 62, 60, 2)
    assert Tradeline.objects.filter(is_available=True).count() == 60
    first = supplier_sim.state.tradelines["10001"]
    row = Tradeline.objects.get(card_id="10001")
    assert (row.bank_name, row.price, row.stock, row.credit_limit) == (
        first.bank_name, first.price_cents, first.stock, first.credit_limit * 100)


def test_resync_updates_changes_and_marks_removed_rows_unavailable(supplier_sim):
    supplier_sim.sync()
    before = Tradeline.objects.get(card_id="10002")
    supplier_sim.set_stock("10001", 0)
    supplier_sim.state.set_price("10003", 77_777)
    supplier_sim.state.remove_tradeline("10004")
    lines = []
    sync = catalog_sync(progress=lines.append)
    assert sync.rows_stored == 59
    assert Tradeline.objects.get(card_id="10001").stock == 0
    assert Tradeline.objects.get(card_id="10003").price == 77_777
    removed = Tradeline.objects.get(card_id="10004")
    assert removed.is_available is False
    unchanged = Tradeline.objects.get(card_id="10002")
    assert unchanged.updated_at == before.updated_at and unchanged.synced_at > before.synced_at
    assert lines[-1] == "done: 59 tradelines (0 new, 2 changed, 1 no longer offered, 2 skipped)"
    assert "10004" not in checkout_catalog()


def test_supplier_down_keeps_the_last_good_catalog(supplier_sim):
    supplier_sim.sync()
    supplier_sim.set_faults(status=503)
    sync = supplier_sim.sync()
    assert sync.status == "FAILED" and sync.error.startswith("SUPPLIER_UNAVAILABLE")
    assert Tradeline.objects.filter(is_available=True).count() == 60
    assert CatalogSync.objects.filter(status="SUCCEEDED").count() == 1


def test_feed_without_readable_rows_changes_nothing(supplier_sim):
    supplier_sim.sync()
    supplier_sim.state.reset(catalog_size=0, bad_rows=3)
    sync = supplier_sim.sync()
    assert (sync.status, sync.rows_received, sync.rows_skipped) == ("FAILED", 3, 3)
    assert Tradeline.objects.filter(is_available=True).count() == 60


def test_checkout_catalog_refreshes_lazily_when_older_than_ttl(supplier_sim, settings):
    settings.CATALOG_TTL_SECONDS = 300
    supplier_sim.sync()
    _age_catalog(301)
    supplier_sim.set_stock("10001", 9)
    catalog = checkout_catalog()
    assert catalog["10001"].stock == 9
    assert CatalogSync.objects.filter(status="SUCCEEDED").count() == 2


def test_checkout_catalog_within_ttl_does_not_call_the_supplier(supplier_sim):
    supplier_sim.sync()
    calls = len(supplier_sim.requests())
    assert len(checkout_catalog()) == 60
    assert len(supplier_sim.requests()) == calls


def test_supplier_down_serves_last_good_until_the_staleness_limit(supplier_sim, settings):
    settings.CATALOG_TTL_SECONDS = 300
    settings.CATALOG_MAX_STALENESS_SECONDS = 3600
    supplier_sim.sync()
    _age_catalog(600)
    supplier_sim.set_faults(status=500)
    assert len(checkout_catalog()) == 60  # past the TTL, refresh failed, still within the limit
    failed_calls = len(supplier_sim.requests())
    assert len(checkout_catalog()) == 60  # the failure is remembered: no new supplier calls for a while
    assert len(supplier_sim.requests()) == failed_calls
    _age_catalog(3601)
    with pytest.raises(ApplicationError) as exc:
        checkout_catalog()
    assert (exc.value.status, exc.value.code) == (503, "CATALOG_STALE")


def test_empty_catalog_and_supplier_down_is_unavailable(supplier_sim):
    supplier_sim.set_faults(status=500)
    with pytest.raises(ApplicationError) as exc:
        checkout_catalog()
    assert (exc.value.status, exc.value.code) == (503, "CATALOG_UNAVAILABLE")
    assert Tradeline.objects.count() == 0


def test_sync_catalog_command_prints_progress(supplier_sim):
    out = StringIO()
    call_command("sync_catalog", stdout=out)
    text = out.getvalue()
    assert "sync_catalog: fetching the supplier's pricing ..." in text
    assert "sync_catalog: done: 60 tradelines (60 new, 0 changed, 0 no longer offered, 2 skipped)" in text
    assert "60 tradelines stored, 2 skipped of 62 received" in text


def test_sync_catalog_command_fails_loudly(supplier_sim):
    supplier_sim.set_faults(status=500)
    with pytest.raises(CommandError, match="catalog sync failed: SUPPLIER_UNAVAILABLE"):
        call_command("sync_catalog", stdout=StringIO())
    assert Tradeline.objects.count() == 0


def test_large_feed_is_stored_in_bulk_and_updated(supplier_sim):
    """More rows than one batch: the COPY upsert on PostgreSQL, batched bulk upserts elsewhere."""
    supplier_sim.state.reset(catalog_size=1_500, bad_rows=5)
    sync = supplier_sim.sync()
    assert (sync.status, sync.rows_stored, sync.rows_skipped) == ("SUCCEEDED", 1_500, 5)
    assert Tradeline.objects.filter(is_available=True).count() == 1_500
    last = supplier_sim.state.tradelines["11500"]
    assert Tradeline.objects.get(card_id="11500").price == last.price_cents
    for card_id in list(supplier_sim.state.tradelines)[:1_100]:
        supplier_sim.state.set_price(card_id, 12_345)
    supplier_sim.state.remove_tradeline("11500")
    lines = []
    catalog_sync(progress=lines.append)
    assert Tradeline.objects.filter(price=12_345, is_available=True).count() == 1_100
    assert Tradeline.objects.get(card_id="11500").is_available is False
    assert lines[-1].startswith("done: 1499 tradelines (0 new, ")
    assert lines[-1].endswith(" changed, 1 no longer offered, 5 skipped)")
