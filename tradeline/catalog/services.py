"""Catalog writes: the pricing policy of a broker and the catalog sync from the supplier."""

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from tradeline.brokers.models import Broker
from tradeline.catalog.memo import forget_catalog_memo
from tradeline.catalog.models import CatalogSync, Tradeline
from tradeline.catalog.pricing import PricingPolicy, direct_policy
from tradeline.catalog.supplier.client import SupplierClient
from tradeline.catalog.supplier.errors import SupplierError
from tradeline.catalog.supplier.parsing import ParsedRow, parse_pricing

logger = logging.getLogger(__name__)

SYNC_FIELDS = ("bank_name", "credit_limit", "date_opened", "purchase_deadline", "reporting_period", "stock",
               "price", "image", "is_available")
UPSERT_FIELDS = ("id", "card_id", *SYNC_FIELDS, "synced_at", "created_at", "updated_at")
CHUNK = 1000


def pricing_policy_for(broker: Broker | None) -> PricingPolicy:
    """The pricing policy of a sale: the broker's share and markup, or a direct sale (no broker)."""
    commission = settings.PLATFORM_COMMISSION_PERCENT
    if broker is None:
        return direct_policy(commission)
    return PricingPolicy(
        platform_commission_percent=commission,
        revenue_share_percent=broker.revenue_share_percent,
        markup_type=broker.markup_type,
        markup_percent=broker.markup_percent,
        markup_fixed=broker.markup_fixed,
    )


def _row_values(row: ParsedRow) -> tuple:
    return (row.bank_name, row.credit_limit, row.date_opened, row.purchase_deadline, row.reporting_period,
            row.stock, row.price, row.image, True)


def catalog_sync(*, progress: Callable[[str], None] | None = None, client: SupplierClient | None = None) -> CatalogSync:
    """Fetch /pricing and store it in the Tradeline table, set-based.

    New and changed rows are upserted in bulk, rows gone from the feed are marked unavailable, and
    every available row gets the sync time (the age checkout checks). A supplier failure or a feed
    with no readable row changes nothing: the last good catalog stays and a FAILED sync is recorded.
    """
    say = progress or (lambda message: None)
    started = timezone.now()
    say("fetching the supplier's pricing ...")
    owns_client = client is None
    try:
        client = client or SupplierClient.from_settings()
        raw_rows = client.get_pricing()
    except SupplierError as exc:
        logger.warning("catalog sync failed: %s (%s)", exc.code, exc.message)
        return CatalogSync.objects.create(status=CatalogSync.Status.FAILED, created_at=started,
                                          finished_at=timezone.now(), error=f"{exc.code}: {exc.message}")
    finally:
        if owns_client and client is not None:
            client.close()

    say(f"received {len(raw_rows)} rows, parsing ...")
    parsed = parse_pricing(raw_rows)
    if not parsed.rows:
        logger.warning("catalog sync: no readable tradeline in %d rows; keeping the last good catalog", parsed.received)
        return CatalogSync.objects.create(
            status=CatalogSync.Status.FAILED, created_at=started, finished_at=timezone.now(),
            rows_received=parsed.received, rows_skipped=parsed.skipped,
            error="The supplier's pricing had no readable tradeline; the last good catalog is kept.",
        )
    say(f"storing {len(parsed.rows)} tradelines ({parsed.skipped} skipped) ...")
    stored = _store(parsed.rows, now=timezone.now(), say=say)
    sync = CatalogSync.objects.create(
        status=CatalogSync.Status.SUCCEEDED, created_at=started, finished_at=timezone.now(),
        rows_received=parsed.received, rows_stored=len(parsed.rows), rows_skipped=parsed.skipped,
    )
    forget_catalog_memo()
    say(f"done: {len(parsed.rows)} tradelines ({stored['created']} new, {stored['changed']} changed, "
        f"{stored['removed']} no longer offered, {parsed.skipped} skipped)")
    return sync


@transaction.atomic
def _store(rows: list[ParsedRow], *, now: datetime, say: Callable[[str], None]) -> dict[str, int]:
    existing = {
        values[0]: values[1:]
        for values in Tradeline.objects.values_list("card_id", *SYNC_FIELDS).iterator(chunk_size=5000)
    }
    upserts = []
    created = changed = 0
    for row in rows:
        values = _row_values(row)
        before = existing.get(row.card_id)
        if before == values:
            continue
        if before is None:
            created += 1
        else:
            changed += 1
        upserts.append((uuid.uuid4(), row.card_id, *values, now, now, now))
    # An upsert keeps two concurrent syncs from tripping over the unique card_id.
    if connection.vendor == "postgresql" and len(upserts) > CHUNK:
        _upsert_by_copy(upserts)
    else:
        for start in range(0, len(upserts), CHUNK):
            Tradeline.objects.bulk_create(
                [Tradeline(**dict(zip(UPSERT_FIELDS, values, strict=True))) for values in upserts[start:start + CHUNK]],
                update_conflicts=True, unique_fields=["card_id"],
                update_fields=[*SYNC_FIELDS, "synced_at", "updated_at"],
            )
            if len(upserts) > CHUNK:
                say(f"  stored {min(start + CHUNK, len(upserts))}/{len(upserts)} new or changed rows")
    feed = {row.card_id for row in rows}
    gone = [card_id for card_id, values in existing.items() if card_id not in feed and values[-1]]
    for start in range(0, len(gone), CHUNK):
        Tradeline.objects.filter(card_id__in=gone[start:start + CHUNK]).update(is_available=False, updated_at=now)
    Tradeline.objects.filter(is_available=True).exclude(synced_at=now).update(synced_at=now)
    return {"created": created, "changed": changed, "removed": len(gone)}


def _upsert_by_copy(rows: list[tuple]) -> None:
    """PostgreSQL: COPY the rows into a temporary table, then one INSERT .. ON CONFLICT DO UPDATE.
    Large first syncs are dominated by per-value ORM preparation otherwise."""
    table = Tradeline._meta.db_table
    columns = [Tradeline._meta.get_field(name).column for name in UPSERT_FIELDS]
    column_list = ", ".join(f'"{c}"' for c in columns)
    updates = ", ".join(f'"{Tradeline._meta.get_field(n).column}" = EXCLUDED."{Tradeline._meta.get_field(n).column}"'
                        for n in [*SYNC_FIELDS, "synced_at", "updated_at"])
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE TEMPORARY TABLE tradeline_sync_rows (LIKE "{table}") ON COMMIT DROP')
        with cursor.cursor.copy(f"COPY tradeline_sync_rows ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f'INSERT INTO "{table}" ({column_list}) SELECT {column_list} FROM tradeline_sync_rows '
            f'ON CONFLICT ("card_id") DO UPDATE SET {updates}'
        )
        cursor.execute("DROP TABLE tradeline_sync_rows")
