"""Real concurrency on PostgreSQL: racing cancels, racing checkouts, a cancel during the Stripe call."""

import time
from datetime import UTC
from functools import partial

import pytest
from django.utils import timezone

from tradeline.testing.agreements import agreement_consent
from tradeline.analytics.models import BrokerDailyStats
from tradeline.audit.models import ActivityLog
from tradeline.core.errors import Conflict
from tradeline.orders.models import Order, OrderStatus
from tradeline.orders.tests.conftest import seed_catalog
from tradeline.payments.services.checkout import checkout_cancel, checkout_create
from tradeline.testing.concurrency import run_together
from tradeline.testing.factories import session_of


@pytest.fixture
def fresh_catalog(settings):
    settings.TRADELINE_API_URL = ""
    seed_catalog()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_cancels_cancel_once(make_broker, make_order, admin_user):
    order = make_order(broker=make_broker())

    def cancel():
        return checkout_cancel(order_id=order.pk, actor_user=admin_user, reason="race")

    results = run_together([cancel] * 6, timeout=5)
    assert sum(isinstance(r, Order) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 5
    assert ActivityLog.objects.filter(action="order.cancelled", entity_id=str(order.pk)).count() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_checkouts_get_distinct_numbers_and_all_count(fresh_catalog, make_broker, stripe_sim):
    broker = make_broker()
    consent = agreement_consent()
    checkouts = [partial(checkout_create, broker=broker, customer_email=f"c{i}@example.com",
                         items=[("card-amex", 1)], agreement=consent) for i in range(8)]
    results = run_together(checkouts, timeout=5)
    assert all(isinstance(r, tuple) for r in results), results
    numbers = {order.order_number for order, _ in results}
    sessions = {session.id for _, session in results}
    assert len(numbers) == 8 and len(sessions) == 8
    assert Order.objects.filter(status=OrderStatus.PENDING, payments__stripe_session_id__isnull=False).count() == 8
    day = timezone.now().astimezone(UTC).date()
    assert BrokerDailyStats.objects.get(broker=broker, date=day).checkout_starts == 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_cancel_while_stripe_answers_closes_the_new_session(fresh_catalog, make_broker, stripe_sim, admin_user):
    broker = make_broker()
    stripe_sim.set_faults(delay_ms=1500, count=1, path="/v1/checkout/sessions", method="POST")

    def checkout():
        return checkout_create(broker=broker, customer_email="a@example.com", items=[("card-chase", 1)], agreement=agreement_consent())

    def cancel_once_the_order_exists():
        deadline = time.monotonic() + 5
        while not Order.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return checkout_cancel(order_id=Order.objects.get().pk, actor_user=admin_user, reason="changed mind")

    outcome, cancelled = run_together([checkout, cancel_once_the_order_exists], join_timeout=15)
    if isinstance(cancelled, BaseException):
        raise cancelled
    assert isinstance(outcome, Conflict), outcome
    assert outcome.code == "ORDER_NOT_PENDING"
    order = Order.objects.get()
    assert (order.status, session_of(order), order.cancellation_reason) == (
        OrderStatus.CANCELLED, None, "changed mind")
    sessions = {e["data"]["object"]["id"] for e in stripe_sim.events("checkout.session.expired")}
    assert len(sessions) == 1  # the session opened for the cancelled order was expired at once
    assert BrokerDailyStats.objects.filter(broker=broker).count() == 0
