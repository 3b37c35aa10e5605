"""Core fixtures: database vendor marks, factories."""

import pytest
from django.core.cache import cache
from django.db import connection


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    vendor = connection.vendor
    for item in items:
        if "postgres" in item.keywords and vendor != "postgresql":
            item.add_marker(skip_pg)


@pytest.fixture
def fresh_cache():
    """An empty cache before and after the test (rate limits, memoised catalog and summaries)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_broker(db):
    from tradeline.testing.factories import make_broker

    return make_broker


@pytest.fixture
def make_order(db):
    from tradeline.testing.factories import make_order

    return make_order


@pytest.fixture
def admin_user(db):
    from tradeline.testing.factories import make_admin

    return make_admin()


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """Hashing strength is Django's business; tests check our flows, and many create users."""
    from django.test.utils import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield
