"""The stale-checkout sweep: lost expiry webhooks and checkouts that never reached Stripe."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from tradeline.testing.agreements import agreement_consent
from tradeline.audit.models import ActivityLog
from tradeline.orders.services import order_create
from tradeline.orders.models import Order, OrderStatus
from tradeline.orders.tests.conftest import catalog, fast_test_settings  # noqa: F401
from tradeline.payments.models import Payment
from tradeline.payments.services import checkout as services


@pytest.fixture
def broker(make_broker):
    return make_broker()


def _checkout(broker, email="a@example.com"):
    order, session = services.checkout_create(broker=broker, customer_email=email, items=[("card-chase", 1)], agreement=agreement_consent())
    return order, session


def _status(order) -> str:
    order.refresh_from_db()
    return order.status


@pytest.mark.django_db
def test_sweep_cancels_only_what_can_no_longer_be_paid(catalog, broker, stripe_sim):
    past = timezone.now() - timedelta(hours=2)
    expired, expired_session = _checkout(broker)
    stripe_sim.expire(expired_session.id, deliver=False)  # Stripe expired it; the webhook was lost
    paid, paid_session = _checkout(broker)
    stripe_sim.pay(paid_session.id, deliver=False)  # paid; its events are still on their way
    still_open, _ = _checkout(broker)
    linked, _ = _checkout(broker)
    never_opened = order_create(broker=broker, customer_email="b@example.com", items=[("card-chase", 1)],
                                         checkout_expires_at=past)
    manual = order_create(broker=None, customer_email="c@example.com", items=[("card-chase", 1)])
    Order.objects.filter(pk__in=[expired.pk, paid.pk, still_open.pk, linked.pk]).update(checkout_expires_at=past)
    Payment.objects.filter(order_id=linked.pk).update(stripe_payment_link_id="plink_test_1")

    preview = services.order_expire_stale_checkouts(dry_run=True)
    assert preview == {"checked": 4, "cancelled": 2, "left_open": 1, "left_complete": 1, "errors": 0}
    assert Order.objects.filter(status=OrderStatus.CANCELLED).count() == 0

    counts = services.order_expire_stale_checkouts()
    assert counts == {"checked": 4, "cancelled": 2, "left_open": 1, "left_complete": 1, "errors": 0}
    assert _status(expired) == OrderStatus.CANCELLED and expired.cancellation_reason == "checkout session expired"
    assert _status(never_opened) == OrderStatus.CANCELLED
    assert never_opened.cancellation_reason == "checkout never opened"
    for untouched in (paid, still_open, linked, manual):
        assert _status(untouched) == OrderStatus.PENDING
    assert ActivityLog.objects.filter(action="order.checkout_abandoned").count() == 1

    again = services.order_expire_stale_checkouts()
    assert again == {"checked": 2, "cancelled": 0, "left_open": 1, "left_complete": 1, "errors": 0}


@pytest.mark.django_db
def test_recent_expiry_waits_for_the_grace_period(catalog, broker, stripe_sim):
    order, session = _checkout(broker)
    stripe_sim.expire(session.id, deliver=False)
    Order.objects.filter(pk=order.pk).update(checkout_expires_at=timezone.now() - timedelta(seconds=60))
    assert services.order_expire_stale_checkouts(grace_seconds=600)["checked"] == 0
    assert services.order_expire_stale_checkouts(grace_seconds=0)["cancelled"] == 1


@pytest.mark.django_db
def test_stripe_outage_cancels_nothing(catalog, broker, stripe_sim):
    order, session = _checkout(broker)
    stripe_sim.expire(session.id, deliver=False)
    Order.objects.filter(pk=order.pk).update(checkout_expires_at=timezone.now() - timedelta(hours=1))
    stripe_sim.set_faults(status=500)
    assert services.order_expire_stale_checkouts()["errors"] == 1
    assert _status(order) == OrderStatus.PENDING


@pytest.mark.django_db
def test_checkout_records_the_expected_expiry_before_stripe_is_called(catalog, broker, stripe_sim, settings):
    order, session = _checkout(broker)
    order.refresh_from_db()
    assert order.checkout_expires_at == session.expires_at
    created = ActivityLog.objects.get(action="order.created", entity_id=str(order.pk)).created_at
    expected = created + timedelta(minutes=settings.STRIPE_CHECKOUT_EXPIRY_MINUTES)
    assert abs((order.checkout_expires_at - expected).total_seconds()) < 5


@pytest.mark.django_db
def test_command_reports_counts(catalog, broker):
    order_create(broker=broker, customer_email="b@example.com", items=[("card-chase", 1)],
                          checkout_expires_at=timezone.now() - timedelta(hours=1))
    out = StringIO()
    call_command("expire_stale_orders", "--dry-run", stdout=out)
    assert "checked 1, cancelled 1" in out.getvalue()
    assert Order.objects.get().status == OrderStatus.PENDING
    call_command("expire_stale_orders", stdout=out)
    assert Order.objects.get().status == OrderStatus.CANCELLED
