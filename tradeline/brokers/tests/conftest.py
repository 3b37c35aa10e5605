import uuid

import pytest

from tradeline.brokers.auth import issue_admin_token
from tradeline.brokers.models import AdminRole
from tradeline.brokers.services import broker_keys_rotate


def unique_ip() -> str:
    """A fresh client address per test: rate-limit counters live in the cache (Redis survives runs)."""
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


def unique_email(tag: str = "admin") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def admin_headers(db):
    """headers(role=...) -> Authorization header kwargs for the test client."""
    from tradeline.testing.factories import make_admin

    def headers(role: str = AdminRole.ADMIN) -> dict:
        user = make_admin(role=role, email=unique_email(role.lower()))
        raw, _ = issue_admin_token(user, 3600)
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return headers


@pytest.fixture
def keyed_broker(make_broker):
    """keyed_broker(**fields) -> (broker, {"publishable_key", "secret_key"})."""

    def build(**fields):
        broker = make_broker(**fields)
        return broker, broker_keys_rotate(broker_id=broker.pk)

    return build
