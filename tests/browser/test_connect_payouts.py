"""Stripe Connect in a real browser: a broker onboards on the local Stripe server's hosted page
(first leaving the bank account for later, then completing), the account.updated webhooks reach the
live server, and an admin sends the month's payout with "Send via Stripe"."""

import pytest

from tests.browser.test_demo_shop import PASSWORD_ADMIN, PASSWORD_BROKER, _login_admin, _login_broker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stack(live_server, stripe_sim, settings):
    from django.contrib.auth import get_user_model

    from tradeline.brokers import services as brokers
    from tradeline.brokers.models import AdminProfile, AdminRole

    settings.PUBLIC_BASE_URL = live_server.url
    stripe_sim.set_webhook_url(f"{live_server.url}/api/orders/webhook/stripe")
    broker = brokers.broker_create(name="Dana Demo", email="dana@demo.test", business_name="Demo Credit Partners",
                                   website=f"{live_server.url}/demo/")
    brokers.broker_approve(broker_id=broker.pk)
    brokers.broker_set_password(broker_id=broker.pk, password=PASSWORD_BROKER)
    admin = get_user_model().objects.create_user(username="ops@demo.test", email="ops@demo.test",
                                                 password=PASSWORD_ADMIN, is_staff=True)
    AdminProfile.objects.create(user=admin, role=AdminRole.ADMIN)
    return {"url": live_server.url, "broker": broker}


def test_broker_onboards_and_admin_sends_the_payout(stack, stripe_sim, new_page, shoot):
    from tradeline.payouts.models import ConnectedAccount, Payout, PayoutTransfer
    from tradeline.payouts.tests.connect_helpers import september_payout

    base, broker = stack["url"], stack["broker"]
    portal = new_page()
    _login_broker(portal, base)
    portal.click("text=Get paid")
    assert "manual transfer" in portal.inner_text("#connect-state")
    portal.click("#start-onboarding")
    # Stripe's hosted onboarding page: submit, but leave the bank account for later.
    portal.wait_for_url(f"{stripe_sim.url}/connect/onboarding/**")
    shoot(portal, "connect-onboarding")
    portal.click("#partial")
    portal.wait_for_url(f"{base}/portal/get-paid/")
    assert portal.inner_text("[data-field=payouts_enabled]") == "no"
    assert "external_account" in portal.inner_text("[data-field=requirements_due]")
    # Continue onboarding: a new link, completed with test data.
    portal.click("#continue-onboarding")
    portal.wait_for_url(f"{stripe_sim.url}/connect/onboarding/**")
    portal.click("#complete")
    portal.wait_for_url(f"{base}/portal/get-paid/")
    assert portal.inner_text("[data-field=payouts_enabled]") == "yes"
    assert portal.inner_text("[data-field=state]") == "ENABLED"
    shoot(portal, "portal-get-paid")
    account = ConnectedAccount.objects.get(broker=broker)
    assert account.payouts_enabled and len(stripe_sim.events("account.updated")) == 2

    payout = september_payout(broker, prices=(100_000, 40_000))  # share 10 %, no markup: $140.00
    admin = new_page()
    _login_admin(admin, base)
    admin.goto(f"{base}/admin/payouts/payout/{payout.pk}/change/")
    assert account.stripe_account_id in admin.inner_text("#send-form")
    admin.click("#send-stripe")
    admin.wait_for_selector("[data-field=transfer-status]")
    assert admin.inner_text("[data-field=transfer-status]") == "SENT"
    shoot(admin, "admin-payout-sent", full_page=True)
    transfer = PayoutTransfer.objects.get(payout=payout)
    payout.refresh_from_db()
    assert (payout.status, payout.transaction_id, payout.total_amount) == ("COMPLETED", transfer.stripe_transfer_id,
                                                                          14_000)
    assert admin.inner_text("#transaction-id") == transfer.stripe_transfer_id
    # The broker sees the paid payout on its yearly statement.
    portal.goto(f"{base}/portal/statement/?year={payout.processed_at.year}")
    assert portal.inner_text("#paid-out") == "$140.00"
    assert Payout.objects.filter(broker=broker, status="COMPLETED").count() == 1
