"""The whole shop in a real browser: widget -> local Stripe page -> webhook -> fulfillment ->
admin refund -> monthly payout -> broker portal.

Everything runs for real over HTTP: the Django live server, the local Stripe-compatible server
(its webhooks signed and POSTed to the live server), the supplier simulator, the task worker.
Set UPDATE_DOCS_SCREENSHOTS=1 to copy the README's screenshots to docs/screenshots/.
"""

import os
import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.browser.logins import login_admin, login_broker
from tradeline.devtools.supplier_sim import lifecycle
from tradeline.evidence.models import StatusPageView
from tradeline.fulfillment.tracking import supplier_orders_sync
from tradeline.payments import stripe_gateway
from tradeline.testing.factories import payment_of, supplier_of

ROOT = Path(__file__).resolve().parents[2]

PASSWORD_ADMIN = "admin-browser-pass-1"
PASSWORD_BROKER = "broker-browser-pass-1"
DOCS_SHOTS = ("demo-shop", "stripe-checkout", "admin-overview", "admin-order-top", "admin-payout", "portal-dashboard")


def _previous_month(now: datetime) -> tuple[int, int]:
    return (now.year - 1, 12) if now.month == 1 else (now.year, now.month - 1)


def _wait_for(predicate, timeout: float = 10.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def shop(live_server, supplier_sim, stripe_sim, settings):
    """The running stack with an ACTIVE broker, its demo page, a synced catalog and an admin."""
    from django.contrib.auth import get_user_model
    from django.core.cache import cache

    from tradeline.brokers import services as brokers
    from tradeline.brokers.models import AdminProfile, AdminRole
    from tradeline.widget.services import demo_page_set

    cache.clear()
    settings.PUBLIC_BASE_URL = live_server.url
    stripe_sim.set_webhook_url(f"{live_server.url}/api/orders/webhook/stripe")
    sync = supplier_sim.sync()
    assert sync.status == "SUCCEEDED"

    broker = brokers.broker_create(name="Dana Demo", email="dana@demo.test", business_name="Demo Credit Partners",
                                   website=f"{live_server.url}/demo/")
    brokers.broker_admin_update(broker_id=broker.pk, allowed_origins=[live_server.url],
                                markup_type="PERCENTAGE", markup_percent="20")
    brokers.broker_approve(broker_id=broker.pk)
    brokers.broker_set_password(broker_id=broker.pk, password=PASSWORD_BROKER)
    keys = brokers.broker_keys_rotate(broker_id=broker.pk)
    demo_page_set(broker=broker, publishable_key=keys["publishable_key"])

    admin = get_user_model().objects.create_user(username="ops@demo.test", email="ops@demo.test",
                                                 password=PASSWORD_ADMIN, is_staff=True)
    AdminProfile.objects.create(user=admin, role=AdminRole.ADMIN)
    yield {"url": live_server.url, "broker": broker}
    cache.clear()


def _run_worker() -> None:
    call_command("db_worker", queue_name="*", batch=True, no_startup_delay=True, reload=False, interval=0.1,
                 verbosity=0)


def _login_admin(page, base: str) -> None:
    login_admin(page, base, email="ops@demo.test", password=PASSWORD_ADMIN)


def _login_broker(page, base: str) -> None:
    login_broker(page, base, email="dana@demo.test", password=PASSWORD_BROKER)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_buy_through_the_widget_refund_and_pay_out(shop, new_page, shoot, supplier_sim, stripe_sim):
    from tradeline.analytics.models import BrokerDailyStats
    from tradeline.orders.models import Order, OrderStatus
    from tradeline.payouts.models import CommissionRecord, Payout, PayoutStatus

    base = shop["url"]

    # --- the customer buys on the broker's site through the widget ---------------------------------
    customer = new_page()
    customer.goto(f"{base}/demo/")
    widget = customer.locator("[data-tradeline-widget]")
    first_card = widget.locator(".card:not(.low):not(.sold-out)").first  # room for a quantity of 2
    first_card.wait_for()
    # The host page styles every <button> red with yellow text: none of it reaches the shadow DOM.
    add = first_card.locator("button.add")
    assert add.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(37, 99, 235)"
    shoot(customer, "demo-shop")

    bank = first_card.locator(".bank").inner_text()
    unit_price = first_card.locator(".price").inner_text()
    add.click()
    widget.locator(".line select.qty").select_option("2")
    widget.locator(".card").nth(1).locator("button.add").click()
    widget.locator(".line .remove").nth(1).click()  # changed their mind about the second one
    assert widget.locator(".line").count() == 1
    widget.locator("button.buy").click()
    assert "valid email" in widget.locator(".error").inner_text()
    widget.locator("input[name=email]").fill("jane.customer@example.com")
    widget.locator("input[name=name]").fill("Jane Customer")
    shoot(customer, "widget-cart")
    agreement = widget.locator("#tlm-agreement")
    assert not agreement.is_checked()  # never pre-ticked
    widget.locator("button.buy").click()
    assert "accept the Tradeline User Agreement" in widget.locator(".agreement .error").inner_text()
    assert widget.locator(".agreement a").get_attribute("href").endswith("/agreement/v1")
    agreement.check()
    widget.locator("button.buy").click()

    customer.wait_for_url(re.compile(r"/checkout/cs_"))
    assert bank in customer.content()
    shoot(customer, "stripe-checkout")
    customer.locator("input[name=terms_of_service]").check()  # Stripe's own terms box (consent_collection)
    customer.locator("button.pay").click()
    customer.wait_for_url(re.compile(r"/demo/success"))
    number = customer.locator("#order-number").inner_text()
    shoot(customer, "demo-success")

    order = Order.objects.get(order_number=number)
    assert (order.status, order.customer_email, order.items.get().quantity) == (
        OrderStatus.PROCESSING, "jane.customer@example.com", 2)
    assert order.items.get().bank_name == bank
    evidence = order.agreement_acceptance
    assert (evidence.version, evidence.client_ip, evidence.stripe_consent) == (1, "127.0.0.1", "accepted")
    assert "Chrom" in evidence.user_agent
    assert unit_price.replace("$", "").replace(",", "") == f"{order.items.get().customer_price / 100:.2f}"
    stats = BrokerDailyStats.objects.get(broker=shop["broker"])
    assert (stats.widget_loads, stats.checkout_starts, stats.orders_count) == (1, 1, 1)

    # --- the task worker places the order at the supplier -------------------------------------------
    _run_worker()
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and supplier_of(order).supplier_order_id

    # --- the customer follows the status link; the supplier moves the tradeline on ---------------------
    customer.goto(f"{base}/demo/success?session_id={payment_of(order).stripe_session_id}")
    customer.click("#status-link")
    customer.wait_for_selector("#stage")
    assert customer.locator("#order-number").inner_text() == number
    assert customer.locator("#stage").get_attribute("data-stage") == "PLACED"
    supplier_id = int(supplier_of(order).supplier_order_id)
    for supplier_status, stage in (("au-added", "AUTHORIZED_USER"), ("posted", "REPORTING")):
        lifecycle.set_status(supplier_sim.state, supplier_id, supplier_status)  # the supplier's own clock, by control
        assert supplier_orders_sync()["changes"] == 1
        customer.reload()
        assert customer.locator("#stage").get_attribute("data-stage") == stage
    assert "has posted" in customer.locator("#stage").inner_text()
    assert StatusPageView.objects.filter(order=order).count() == 3

    # --- the admin sees it COMPLETED and refunds part of it ----------------------------------------
    admin = new_page()
    _login_admin(admin, base)
    shoot(admin, "admin-overview", full_page=True)
    admin.goto(f"{base}/admin/orders/order/?q={number}")
    admin.click(f"text={number}")
    admin.wait_for_selector("#breakdown")
    assert admin.locator("h1 .tl-badge").inner_text().lower() == "completed"
    refund_cents = order.total_charged // 4
    admin.fill("#refund-form input[name=amount]", f"{refund_cents // 100}.{refund_cents % 100:02d}")
    admin.fill("#refund-form input[name=reason]", "one slot was not needed")
    admin.click("#refund-form button[type=submit]")
    admin.wait_for_selector(".messagelist .success")
    order.refresh_from_db()
    assert order.amount_refunded == refund_cents
    assert order.status == OrderStatus.COMPLETED
    assert admin.locator("#amount-refunded").inner_text() == f"${refund_cents // 100:,}.{refund_cents % 100:02d}"
    shoot(admin, "admin-order", full_page=True)
    shoot(admin, "admin-order-top")

    # --- the broker sees the order, completed and partly refunded ----------------------------------
    broker = new_page()
    _login_broker(broker, base)
    row = broker.locator(f"tr[data-order='{number}']")
    assert "completed" in row.inner_text().lower()
    shoot(broker, "portal-dashboard", full_page=True)

    # --- a month later: the admin runs the payouts (preview, confirm) and marks it paid -----------
    # Setup only: the order was paid last month (the month being paid out must have ended).
    year, month = _previous_month(datetime.now(UTC))
    CommissionRecord.objects.filter(order=order).update(order_paid_at=datetime(year, month, 15, tzinfo=UTC))
    commission = CommissionRecord.objects.get(order=order)
    admin.goto(f"{base}/admin/payouts/payout/")
    admin.click("#run-payouts")
    admin.fill("#id_year", str(year))
    admin.fill("#id_month", str(month))
    admin.click("#preview-button")
    admin.wait_for_selector("#preview")
    assert Payout.objects.count() == 0  # the preview is a dry run
    admin.click("#confirm-button")
    admin.wait_for_selector(".messagelist .success")
    payout = Payout.objects.get(broker=shop["broker"])
    assert (payout.status, payout.total_amount) == (PayoutStatus.PENDING, commission.total_commission)
    admin.goto(f"{base}/admin/payouts/payout/{payout.pk}/change/")
    admin.fill("#id_transaction_id", "ACH-20261201-0042")
    admin.click("#mark-paid")
    admin.wait_for_selector(".messagelist .success")
    assert admin.locator("#transaction-id").inner_text() == "ACH-20261201-0042"
    shoot(admin, "admin-payout", full_page=True)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.COMPLETED

    # --- the broker sees the payout --------------------------------------------------------------
    broker.goto(f"{base}/portal/payouts/")
    line = broker.locator(f"tr[data-payout='{payout.pk}']")
    assert "completed" in line.inner_text().lower() and "ACH-20261201-0042" in line.inner_text()
    broker.goto(f"{base}/portal/")
    paid = broker.locator("#earn-paid").inner_text()
    assert paid == f"${payout.total_amount // 100:,}.{payout.total_amount % 100:02d}"
    shoot(broker, "portal-payouts")

    # --- a chargeback: the admin submits the evidence with one click ------------------------------------
    charge_id = stripe_gateway.retrieve_payment_intent(payment_of(order).stripe_payment_intent)["latest_charge"]
    dispute = stripe_sim.dispute(charge_id, amount=order.total_charged - refund_cents)
    admin.goto(f"{base}/admin/orders/order/{order.pk}/change/")
    admin.wait_for_selector("#dispute-evidence")
    admin.click("#submit-evidence")
    admin.wait_for_selector(".messagelist .success")
    remote = stripe_gateway.retrieve_dispute(dispute["id"])
    acceptance = order.agreement_acceptance
    assert (remote["status"], remote["evidence_details"]["submission_count"]) == ("under_review", 1)
    assert remote["evidence"]["customer_purchase_ip"] == acceptance.client_ip == "127.0.0.1"
    assert acceptance.accepted_at.isoformat() in remote["evidence"]["refund_policy_disclosure"]
    assert "posted" in remote["evidence"]["uncategorized_text"]

    if os.environ.get("UPDATE_DOCS_SCREENSHOTS"):
        docs = ROOT / "docs" / "screenshots"
        docs.mkdir(parents=True, exist_ok=True)
        for name in DOCS_SHOTS:
            shutil.copyfile(ROOT / "test-output" / "screenshots" / f"{name}.png", docs / f"{name}.png")
