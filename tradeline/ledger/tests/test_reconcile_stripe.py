"""`reconcile` against Stripe (the local Stripe server over real HTTP): orders that went through real
sessions, payments, refunds and disputes agree; a lost webhook or a wrong id is reported."""

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tradeline.ledger.reconcile import reconcile_run
from tradeline.orders.models import Order
from tradeline.payments.models import Refund
from tradeline.payments.tests import sim
from tradeline.testing.factories import payment_of
from tradeline.payments.models import Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(make_broker, make_order):
    broker = make_broker(share="12.5", markup_percent="7.5")
    return lambda **kw: make_order(broker=broker, prices=kw.pop("prices", (100_000,)), **kw)


def _deliver_new(stripe_sim, client, action) -> None:
    """Do something at Stripe, then deliver the events it caused to our webhook endpoint."""
    start = len(stripe_sim.events())
    action()
    sim.post_all(client, stripe_sim, after=start)


def _codes(report) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in report.discrepancies:
        found.setdefault(item.code, []).append(item.ref)
    return {code: sorted(refs) for code, refs in found.items()}


def test_orders_agree_with_stripe_after_payments_refunds_and_disputes(stripe_sim, shop, settings):
    settings.PAYOUT_MINIMUM_CENTS = 1
    client = Client()
    paid = shop()
    sim.pay(client, stripe_sim, paid)
    refunded = shop(prices=(33_333, 49_999))
    sim.pay(client, stripe_sim, refunded)
    _deliver_new(stripe_sim, client, lambda: stripe_sim.refund(payment_of(refunded).stripe_payment_intent, 10_000,
                                                               deliver=False))
    _deliver_new(stripe_sim, client, lambda: stripe_sim.refund(payment_of(refunded).stripe_payment_intent, 5_000,
                                                               deliver=False))
    disputed = shop()
    sim.pay(client, stripe_sim, disputed)
    _deliver_new(stripe_sim, client, lambda: stripe_sim.dispute(payment_of(disputed).stripe_charge_id, deliver=False))
    expired = shop()
    session_id = sim.open_session(expired)
    _deliver_new(stripe_sim, client, lambda: stripe_sim.expire(session_id, deliver=False))
    pending = shop()
    sim.open_session(pending)

    refunded.refresh_from_db()
    assert (refunded.amount_refunded, refunded.payment_status) == (15_000, "PARTIALLY_REFUNDED")
    assert Order.objects.get(pk=expired.pk).status == "CANCELLED"
    report = reconcile_run(stripe=True)
    assert [d.line() for d in report.discrepancies] == []
    assert report.checked["orders compared with Stripe"] == 5
    assert report.stripe_errors == 0


def test_lost_webhooks_show_as_disagreements_with_stripe(stripe_sim, shop):
    client = Client()
    paid_unseen = shop()
    stripe_sim.pay(sim.open_session(paid_unseen), deliver=False)
    refund_unseen = shop()
    sim.pay(client, stripe_sim, refund_unseen)
    stripe_sim.refund(payment_of(refund_unseen).stripe_payment_intent, 20_000, deliver=False)
    dispute_unseen = shop()
    sim.pay(client, stripe_sim, dispute_unseen)
    stripe_sim.dispute(payment_of(dispute_unseen).stripe_charge_id, deliver=False)
    expiry_unseen = shop()
    stripe_sim.expire(sim.open_session(expiry_unseen), deliver=False)

    report = reconcile_run(stripe=True)
    assert _codes(report) == {
        "STRIPE_PAID_NOT_RECORDED": [paid_unseen.order_number],
        "STRIPE_REFUNDED_MISMATCH": [refund_unseen.order_number],
        "STRIPE_DISPUTE_MISMATCH": [dispute_unseen.order_number],
        "STRIPE_EXPIRED_STILL_PENDING": [expiry_unseen.order_number],
    }
    # The database alone cannot see any of it.
    assert reconcile_run(stripe=False).total == 0


def test_ids_stripe_does_not_know_are_reported(stripe_sim, shop, admin_user):
    client = Client()
    wrong_intent = shop()
    sim.pay(client, stripe_sim, wrong_intent)
    Payment.objects.filter(order_id=wrong_intent.pk).update(stripe_payment_intent="pi_never_made", stripe_charge_id=None)
    wrong_refund = shop()
    sim.pay(client, stripe_sim, wrong_refund)
    from tradeline.payments.services import refund_create

    refund = refund_create(order_id=wrong_refund.pk, amount=5_000, admin=admin_user)
    Refund.objects.filter(pk=refund.pk).update(stripe_refund_id="re_never_made")

    report = reconcile_run(stripe=True)
    assert _codes(report) == {
        "STRIPE_OBJECT_MISSING": [wrong_intent.order_number],
        "STRIPE_REFUND_MISMATCH": [wrong_refund.order_number],
    }
    assert [d.message for d in report.discrepancies if d.code == "STRIPE_OBJECT_MISSING"] == [
        "Stripe has no payment intent pi_never_made"]


def test_stripe_unreachable_makes_the_check_incomplete_exit_2(stripe_sim, shop, capsys):
    client = Client()
    sim.pay(client, stripe_sim, shop())
    stripe_sim.set_faults(status=500)
    report = reconcile_run(stripe=True, stripe_workers=2)
    assert (report.total, report.stripe_errors) == (0, 1)
    with pytest.raises(CommandError) as error:
        call_command("reconcile", "--quiet")
    assert error.value.returncode == 2
    assert "1 Stripe look-ups failed (Stripe check incomplete)" in capsys.readouterr().out
    stripe_sim.clear_faults()
    call_command("reconcile", "--quiet")
    assert capsys.readouterr().out.startswith("0 discrepancies in 1 orders")


def test_failed_stripe_look_ups_say_why_and_which_orders(stripe_sim, shop, capsys, settings):
    client = Client()
    paid = [shop(), shop()]
    for order in paid:
        sim.pay(client, stripe_sim, order)
    settings.STRIPE_SECRET_KEY = ""  # what a second terminal without the demo's configuration used to have

    with pytest.raises(CommandError) as error:
        call_command("reconcile", "--quiet")
    out = capsys.readouterr().out
    assert ("2 Stripe look-ups failed (Stripe check incomplete): STRIPE_UNAVAILABLE: Payments are not configured "
            "(STRIPE_SECRET_KEY is empty). (2 orders)") in out
    assert "STRIPE LOOK-UP FAILED" not in out
    assert str(error.value) == "2 orders could not be compared with Stripe (-v 2 lists them)"

    with pytest.raises(CommandError):
        call_command("reconcile", "--quiet", verbosity=2)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("STRIPE LOOK-UP FAILED")]
    assert sorted(lines) == sorted(
        f"STRIPE LOOK-UP FAILED order {order.order_number}: STRIPE_UNAVAILABLE: Payments are not configured "
        "(STRIPE_SECRET_KEY is empty)." for order in paid)
