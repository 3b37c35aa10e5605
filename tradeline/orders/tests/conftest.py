"""Order test setup: a catalog snapshot in the database, broker keys, admin tokens, an API client."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tradeline.brokers import keys
from tradeline.brokers.auth import issue_admin_token
from tradeline.brokers.models import AdminRole, BrokerApiKey, KeyKind
from tradeline.catalog.models import Tradeline
from tradeline.testing.factories import make_admin

# card_id -> (bank, base price P in cents, stock, credit limit in cents, date opened, reporting period)
CARDS = {
    "card-chase": ("Chase", 100_000, 5, 1_500_000, "2012-04", "1st-5th"),
    "card-amex": ("American Express", 33_333, 10, 2_500_000, "2009-11", "15th-20th"),
    "card-citi": ("Citi", 49_999, 1, 800_000, "2016-02", "25th-28th"),
    "card-empty": ("Discover", 70_000, 0, 1_000_000, "2018-07", "10th"),
}


def seed_catalog(*, synced_at=None, cards=CARDS) -> None:
    """The last good supplier snapshot, as catalog sync leaves it (setup only)."""
    synced_at = synced_at or timezone.now()
    for card_id, (bank, price, stock, limit, opened, period) in cards.items():
        Tradeline.objects.update_or_create(card_id=card_id, defaults=dict(
            bank_name=bank, price=price, stock=stock, credit_limit=limit, date_opened=opened,
            reporting_period=period, purchase_deadline="2026-12-20", synced_at=synced_at, is_available=True,
        ))


@pytest.fixture
def catalog(db, settings):
    """A fresh catalog and no supplier configured (so no lazy refresh is attempted)."""
    settings.TRADELINE_API_URL = ""
    seed_catalog()
    return CARDS


@pytest.fixture(autouse=True)
def fast_test_settings(settings):
    # Many checkouts from one test client IP: the limiter's own test sets a tight rule.
    settings.RATE_LIMIT_CHECKOUT = "100000/60"
    settings.RATE_LIMIT_CHECKOUT_KEY = "200000/60"


def broker_key(broker, kind: str = KeyKind.SECRET) -> str:
    key, prefix, key_hash = keys.new_key(keys.SECRET_PREFIX if kind == KeyKind.SECRET else keys.PUBLISHABLE_PREFIX)
    BrokerApiKey.objects.create(broker=broker, kind=kind, prefix=prefix, key_hash=key_hash)
    return key


def admin_bearer(role: str = AdminRole.ADMIN) -> str:
    key, _ = issue_admin_token(make_admin(role=role), 3600)
    return f"Bearer {key}"


@pytest.fixture
def api():
    return Client()


@pytest.fixture
def admin_auth(db):
    return {"HTTP_AUTHORIZATION": admin_bearer()}


def old(seconds: int):
    return timezone.now() - timedelta(seconds=seconds)
