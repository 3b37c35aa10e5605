"""Checkout rate limits (issue 14, item 7): the client address is limited first, only requests that
reach Stripe count, the per-key ceiling is out of one address's reach, and a request refused by a
limit does not count again — also under parallel requests."""

import json
import secrets

import pytest
from django.core.cache import cache
from django.test import Client

from tradeline.brokers.models import KeyKind
from tradeline.orders.models import Order
from tradeline.orders.tests.conftest import broker_key
from tradeline.testing.agreements import agreement_fields, current_agreement
from tradeline.testing.concurrency import raised, run_together

GOOD = {"customer_email": "ann@example.com", "items": [{"card_id": "card-amex", "quantity": 1}]}
JUNK = {"customer_email": "ann@example.com", "items": [{"card_id": "card-unknown", "quantity": 1}]}


@pytest.fixture(autouse=True)
def _fresh_counters(db):
    cache.clear()
    current_agreement()  # published before any thread asks for it (threads only read it)
    yield
    cache.clear()


def _ip() -> str:
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


def _checkout(key: str, ip: str, body=GOOD) -> int:
    body = {**body, **agreement_fields()}  # the customer ticked the agreement
    return Client().post("/api/orders/checkout", data=json.dumps(body), content_type="application/json",
                         HTTP_X_API_KEY=key, REMOTE_ADDR=ip).status_code


@pytest.mark.django_db
def test_one_address_cannot_block_the_brokers_other_customers(catalog, make_broker, settings, stripe_sim):
    settings.RATE_LIMIT_CHECKOUT, settings.RATE_LIMIT_CHECKOUT_KEY = "3/60", "10/60"
    key = broker_key(make_broker(), KeyKind.PUBLISHABLE)  # public: anyone may send it
    attacker = _ip()
    junk = [_checkout(key, attacker, JUNK) for _ in range(40)]  # unknown cards: no Stripe session
    assert junk == [422] * 40
    spam = [_checkout(key, attacker) for _ in range(30)]  # real sessions: the address's own limit
    assert spam == [201] * 3 + [429] * 27
    customers = [_checkout(key, _ip()) for _ in range(7)]  # the key has 7 of its 10 left
    assert customers == [201] * 7
    assert Order.objects.filter(payments__stripe_session_id__isnull=False).distinct().count() == 10


@pytest.mark.django_db
def test_a_request_refused_by_the_key_ceiling_does_not_count_on_its_address(catalog, make_broker, settings,
                                                                              stripe_sim):
    settings.RATE_LIMIT_CHECKOUT, settings.RATE_LIMIT_CHECKOUT_KEY = "2/60", "3/60"
    full_key, other_key = broker_key(make_broker()), broker_key(make_broker())
    assert [_checkout(full_key, _ip()) for _ in range(3)] == [201] * 3
    ip = _ip()
    assert [_checkout(full_key, ip) for _ in range(5)] == [429] * 5  # the key's ceiling
    assert [_checkout(other_key, ip) for _ in range(3)] == [201, 201, 429]  # the address was not charged


@pytest.mark.django_db(transaction=True)
def test_parallel_checkouts_from_one_address_get_exactly_its_limit(catalog, make_broker, settings, stripe_sim):
    settings.RATE_LIMIT_CHECKOUT, settings.RATE_LIMIT_CHECKOUT_KEY = "4/60", "100/60"
    key, ip = broker_key(make_broker(), KeyKind.PUBLISHABLE), _ip()
    results = run_together([lambda: _checkout(key, ip)] * 16, timeout=30)
    assert raised(results) == []
    assert sorted(results) == [201] * 4 + [429] * 12
    assert Order.objects.count() == 4  # the refused ones created nothing
    assert _checkout(key, _ip()) == 201  # others still buy
