"""Catalog reads: the catalog a checkout prices against and the per-broker public price list.

Freshness: every available Tradeline row carries the time of the last successful sync
(`synced_at`). When that is older than CATALOG_TTL_SECONDS a lazy refresh is tried (one process
at a time, and not again for CATALOG_RETRY_SECONDS after a failure, so an outage does not make
every request wait for supplier timeouts). When the supplier is down the last good catalog is
served marked stale; checkout refuses data older than CATALOG_MAX_STALENESS_SECONDS.

Call these outside any transaction that holds row locks: the lazy refresh talks to the supplier.
"""

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max
from django.utils import timezone

from tradeline.brokers.models import Broker
from tradeline.catalog import memo
from tradeline.catalog.models import Tradeline
from tradeline.catalog.pricing import CatalogEntry, price_unit
from tradeline.catalog.services import catalog_sync, pricing_policy_for
from tradeline.core.errors import ApplicationError
from tradeline.core.money import cents_to_usd

logger = logging.getLogger(__name__)

ENTRY_FIELDS = ("card_id", "bank_name", "price", "stock", "credit_limit", "date_opened", "reporting_period",
                "purchase_deadline")
DISPLAY_FIELDS = (*ENTRY_FIELDS, "image")


@dataclass(frozen=True)
class CatalogState:
    synced_at: datetime | None  # newest sync time among available rows
    count: int  # available rows

    @property
    def version(self) -> str:
        stamp = self.synced_at.isoformat() if self.synced_at else "none"
        return f"{stamp}|{self.count}"

    def age_seconds(self, now: datetime | None = None) -> float | None:
        if self.synced_at is None:
            return None
        return ((now or timezone.now()) - self.synced_at).total_seconds()


def catalog_state() -> CatalogState:
    agg = Tradeline.objects.filter(is_available=True).aggregate(synced_at=Max("synced_at"), count=Count("id"))
    return CatalogState(synced_at=agg["synced_at"], count=agg["count"] or 0)


def _memo_catalog_state() -> CatalogState:
    if connection.in_atomic_block:  # inside a transaction (and in tests): always the database's view
        return catalog_state()
    now = time.monotonic()
    with memo.lock:
        if memo.state_memo["state"] is not None and now - memo.state_memo["at"] < memo.STATE_MEMO_SECONDS:
            return memo.state_memo["state"]
    state = catalog_state()
    with memo.lock:
        memo.state_memo.update(at=now, state=state)
    return state


def _cache(operation: str, *args, default=None, **kwargs):
    """A cache call that degrades instead of failing: the catalog is served from the database when
    the cache is down (logged), never a 500."""
    try:
        return getattr(cache, operation)(*args, **kwargs)
    except Exception:  # any cache backend error
        logger.warning("catalog cache %s failed; continuing without the cache", operation, exc_info=True)
        return default


def _retry_key() -> str:
    return f"catalog:sync-retry-after:{settings.TRADELINE_API_URL}"


def _refresh_if_due(state: CatalogState) -> CatalogState:
    age = state.age_seconds()
    if age is not None and age <= settings.CATALOG_TTL_SECONDS:
        return state
    if not settings.TRADELINE_API_URL or _cache("get", _retry_key()):
        return state
    lock_key = "catalog:sync-lock"
    # Without a working cache (default True) every caller may refresh: slower, still correct.
    if not _cache("add", lock_key, "1", timeout=int(settings.TRADELINE_TIMEOUT_SECONDS * 4) + 30, default=True):
        return state  # another request is refreshing; serve what we have
    try:
        sync = catalog_sync()
        if sync.status != sync.Status.SUCCEEDED:
            _cache("set", _retry_key(), "1", timeout=int(getattr(settings, "CATALOG_RETRY_SECONDS", 30)))
            return state
    finally:
        _cache("delete", lock_key)
    return catalog_state()


def current_catalog_state() -> CatalogState:
    """The catalog's state after a lazy refresh when due."""
    return _refresh_if_due(catalog_state())


def checkout_catalog() -> dict[str, CatalogEntry]:
    """The catalog to price a checkout against (available rows), refreshed lazily when due.

    Raises ApplicationError 503 CATALOG_UNAVAILABLE when there is no catalog and CATALOG_STALE
    when the last good data is older than CATALOG_MAX_STALENESS_SECONDS (never sell at unknown prices).
    """
    state = current_catalog_state()
    if state.synced_at is None:
        raise ApplicationError("The tradeline catalog is not available right now; please try again later.",
                               code="CATALOG_UNAVAILABLE", status=503)
    now = timezone.now()
    limit = settings.CATALOG_MAX_STALENESS_SECONDS
    if state.age_seconds(now) > limit:
        raise ApplicationError(
            "The tradeline catalog could not be refreshed from the supplier recently; checkout is paused "
            "rather than selling at unknown prices. Please try again later.",
            code="CATALOG_STALE", status=503, details={"updated_at": state.synced_at.isoformat()},
        )
    rows = Tradeline.objects.filter(is_available=True, synced_at__gte=now - timedelta(seconds=limit))
    return {values[0]: CatalogEntry(*values) for values in rows.values_list(*ENTRY_FIELDS)}


def _display_rows(state: CatalogState) -> list[tuple]:
    key = f"catalog:rows:{state.version}"
    rows = _cache("get", key)
    if rows is None:
        rows = [tuple(values) for values in
                Tradeline.objects.filter(is_available=True).order_by("bank_name", "card_id").values_list(*DISPLAY_FIELDS)]
        _cache("set", key, rows, timeout=settings.CATALOG_TTL_SECONDS)
    return rows


def broker_pricing_cache_key(broker: Broker, state: CatalogState) -> str:
    """Changes whenever the catalog, the broker's share/markup or its public names change."""
    parts = (state.version, str(broker.pk), str(broker.revenue_share_percent), broker.markup_type,
             str(broker.markup_percent), str(broker.markup_fixed), str(settings.PLATFORM_COMMISSION_PERCENT),
             broker.name, broker.business_name)
    return "pricing:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def broker_pricing_json(*, broker: Broker) -> bytes:
    """`GET /api/public/pricing` body for a broker: customer prices only (never base price,
    share or supplier cost), cached per broker and catalog version."""
    state = _refresh_if_due(_memo_catalog_state())
    if state.synced_at is None:
        raise ApplicationError("The tradeline catalog is not available right now; please try again later.",
                               code="CATALOG_UNAVAILABLE", status=503)
    stale = state.age_seconds() > settings.CATALOG_TTL_SECONDS
    key = broker_pricing_cache_key(broker, state) + (":stale" if stale else "")
    body = memo.body_get(key)
    if body is not None:
        return body
    body = _cache("get", key)
    if body is not None:
        memo.body_put(key, body)
        return body
    policy = pricing_policy_for(broker)
    tradelines = []
    for card_id, bank_name, price, stock, credit_limit, date_opened, reporting_period, deadline, image in _display_rows(state):
        customer_price = price_unit(price, policy).customer_price
        tradelines.append({
            "card_id": card_id, "bank_name": bank_name,
            "credit_limit": credit_limit, "credit_limit_usd": cents_to_usd(credit_limit),
            "date_opened": date_opened, "purchase_deadline": deadline, "reporting_period": reporting_period,
            "stock": stock, "image": image,
            "customer_price": customer_price, "customer_price_usd": cents_to_usd(customer_price),
        })
    payload = {
        "broker": {"id": str(broker.pk), "name": broker.name, "business_name": broker.business_name},
        "stale": stale,
        "updated_at": state.synced_at.isoformat(),
        "tradelines": tradelines,
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    _cache("set", key, body, timeout=settings.CATALOG_TTL_SECONDS)
    memo.body_put(key, body)
    return body
