"""The security suite's world: two brokers with keys, a SUPPORT and an ADMIN with bearer tokens,
and objects of the first broker (orders, a payout, a key) to aim every endpoint at.

`Principal` is who calls: its headers in both spellings (HTTP for schemathesis and httpx, WSGI
`HTTP_...` for Django's test client). Everything is made through services and the factories.
"""

from dataclasses import dataclass, field

import pytest
from django.core.cache import cache

ANONYMOUS = "anonymous"
PUBLISHABLE = "publishable"
OWNER = "owner_secret"
OTHER = "other_secret"
SUPPORT = "support"
ADMIN = "admin"
PRINCIPALS = (ANONYMOUS, PUBLISHABLE, OTHER, OWNER, SUPPORT, ADMIN)


@dataclass(frozen=True)
class Principal:
    name: str
    headers: dict = field(default_factory=dict)

    @property
    def wsgi(self) -> dict:
        return {"HTTP_" + name.upper().replace("-", "_"): value for name, value in self.headers.items()}


@dataclass
class World:
    broker: object  # the owner of every object below (broker A)
    other_broker: object  # broker B, with its own keys
    principals: dict
    pending_order: object
    paid_order: object
    payout: object
    key_id: str  # one of broker A's live API keys (the publishable one)
    admin_user: object
    endpoint_id: str = ""  # broker A's webhook endpoint
    delivery_id: str = ""  # a delivery to it

    def path_values(self, order=None) -> dict:
        """Path parameters that name broker A's objects."""
        return {
            "broker_id": str(self.broker.pk),
            "order_id": str((order or self.pending_order).pk),
            "payout_id": str(self.payout.pk),
            "key_id": self.key_id,
            "endpoint_id": self.endpoint_id,
            "delivery_id": self.delivery_id,
            "year": "2026",
        }


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate-limit counters and key caches never leak between tests."""
    cache.clear()
    yield
    cache.clear()


def build_world() -> World:
    from tradeline.brokers.auth import issue_admin_token
    from tradeline.brokers.models import AdminRole, BrokerApiKey, KeyKind
    from tradeline.brokers.services import broker_keys_rotate
    from tradeline.hooks.services import webhook_endpoint_create, webhook_send_test
    from tradeline.payments.services import PaidOutcome, order_payment_record
    from tradeline.payouts.services import payout_create_monthly
    from tradeline.payouts.tests.helpers import paid_order, utc
    from tradeline.testing.factories import make_admin, make_broker, make_order

    broker = make_broker(name="Owner Broker", website="https://owner.example")
    other = make_broker(name="Other Broker", website="https://other.example")
    keys_a = broker_keys_rotate(broker_id=broker.pk)
    keys_b = broker_keys_rotate(broker_id=other.pk)
    admin = make_admin(role=AdminRole.ADMIN)
    support = make_admin(role=AdminRole.SUPPORT)
    admin_token, _ = issue_admin_token(admin, 3600)
    support_token, _ = issue_admin_token(support, 3600)

    pending = make_order(broker=broker)
    paid = make_order(broker=broker, prices=(80_000,))
    order_payment_record(order_id=paid.pk, amount=paid.total_charged, currency="usd", method="STRIPE",
                    payment_intent="pi_security_suite", charge_id="ch_security_suite")
    paid.refresh_from_db()
    paid_order(broker=broker, paid_at=utc(2026, 8, 5))
    payout = payout_create_monthly(broker=broker, year=2026, month=8)
    assert payout is not None
    key_id = str(BrokerApiKey.objects.get(broker=broker, kind=KeyKind.PUBLISHABLE, revoked_at__isnull=True).pk)
    endpoint, _ = webhook_endpoint_create(broker=broker, url="https://crm.owner.example/hooks", events=["order.paid"])
    delivery = webhook_send_test(broker=broker, endpoint_id=endpoint.pk)

    principals = {
        ANONYMOUS: Principal(ANONYMOUS),
        PUBLISHABLE: Principal(PUBLISHABLE, {"x-api-key": keys_a["publishable_key"]}),
        OWNER: Principal(OWNER, {"x-api-key": keys_a["secret_key"]}),
        OTHER: Principal(OTHER, {"x-api-key": keys_b["secret_key"]}),
        SUPPORT: Principal(SUPPORT, {"Authorization": f"Bearer {support_token}"}),
        ADMIN: Principal(ADMIN, {"Authorization": f"Bearer {admin_token}"}),
    }
    return World(broker=broker, other_broker=other, principals=principals, pending_order=pending,
                 paid_order=paid, payout=payout, key_id=key_id, admin_user=admin,
                 endpoint_id=str(endpoint.pk), delivery_id=str(delivery.pk))


@pytest.fixture
def world(db, stripe_sim) -> World:
    """A fresh world per test (the local Stripe server answers every Stripe call)."""
    return build_world()
