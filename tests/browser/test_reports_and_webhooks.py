"""Issue 20 in a real browser: an admin enrols two-factor sign-in and reads the Reports page; a broker
adds a webhook endpoint in the portal, sends a test event to a real local receiver (which verifies
the signature) and sees the delivery listed."""

import os
import re
import shutil
import time
from base64 import b32decode
from pathlib import Path

import pytest
from django.core.management import call_command

PASSWORD_ADMIN = "admin-reports-pass-1"
PASSWORD_BROKER = "broker-hooks-pass-1"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _to_docs(path: Path) -> None:
    """UPDATE_DOCS_SCREENSHOTS=1 copies the screenshot into docs/screenshots/ (used by docs/business.md)."""
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS"):
        shutil.copy(path, DOCS / path.name)


def _run_worker() -> None:
    call_command("db_worker", queue_name="*", batch=True, no_startup_delay=True, reload=False, interval=0.1,
                 verbosity=0)


@pytest.fixture
def business(live_server, settings):
    from django.contrib.auth import get_user_model
    from django.core.cache import cache

    from tradeline.brokers import services as brokers
    from tradeline.brokers.models import AdminProfile, AdminRole
    from tradeline.payments.services.paid import order_payment_record
    from tradeline.testing.factories import make_order

    cache.clear()
    settings.PUBLIC_BASE_URL = live_server.url
    settings.ADMIN_REQUIRE_2FA = True
    alpha = brokers.broker_create(name="Alpha Credit", email="alpha@reports.test")
    brokers.broker_approve(broker_id=alpha.pk)
    brokers.broker_set_password(broker_id=alpha.pk, password=PASSWORD_BROKER)
    beta = brokers.broker_create(name="Beta Lines", email="beta@reports.test")
    brokers.broker_approve(broker_id=beta.pk)
    for broker, prices in ((alpha, (100_000,)), (alpha, (100_000,)), (beta, (50_000,)), (None, (40_000,))):
        order = make_order(broker=broker, prices=prices)
        order_payment_record(order_id=order.pk, amount=order.total_charged, currency="usd", method="STRIPE",
                        payment_intent=f"pi_{order.pk.hex}")
    admin = get_user_model().objects.create_user(username="boss@reports.test", email="boss@reports.test",
                                                 password=PASSWORD_ADMIN, is_staff=True)
    AdminProfile.objects.create(user=admin, role=AdminRole.SUPER_ADMIN)
    yield {"url": live_server.url, "alpha": alpha}
    cache.clear()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_enrols_2fa_then_reads_the_reports(business, new_page, shoot):
    from django_otp.oath import TOTP

    base = business["url"]
    page = new_page()
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "boss@reports.test")
    page.fill("#id_password", PASSWORD_ADMIN)
    page.click("input[type=submit]")
    # A SUPER_ADMIN without a device is sent to enrolment: QR code, key, code.
    page.wait_for_selector(".tl-qr svg")
    assert page.url.endswith("/admin/2fa/")
    shoot(page, "admin-2fa-enrol")  # not copied to docs: it shows a (throwaway) key
    secret = page.locator("[data-testid=totp-secret]").inner_text()
    code = f"{TOTP(b32decode(secret)).token():06d}"
    page.fill("#id_code", code)
    page.click("input[value=Confirm]")
    page.wait_for_selector(".tl-recovery-codes")
    assert page.locator(".tl-recovery-codes li").count() == 10

    page.goto(f"{base}/admin/reports/?group_by=broker")
    page.wait_for_selector("#report-total")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert page.locator("#report-total th").nth(1).inner_text() == "4"
    assert page.locator("#report-total th").nth(2).inner_text() == "$2,900.00"
    _to_docs(shoot(page, "admin-reports", full_page=True))
    rows = page.locator("#report-table tbody tr")
    assert rows.count() == 3
    assert [rows.nth(i).locator("td").first.inner_text() for i in range(3)] == [
        "Alpha Credit", "Beta Lines", "Direct sales"]
    assert page.locator("#report-top-brokers .tl-hbar").count() == 2
    page.goto(f"{base}/admin/reports/?group_by=day&start={today}&end={today}")
    page.wait_for_selector("#report-chart svg.tl-chart")
    with page.expect_download() as download:
        page.click("#report-csv")
    assert download.value.suggested_filename == f"revenue-{today}-{today}-day.csv"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_broker_adds_a_webhook_and_sends_a_test_event(business, new_page, shoot, broker_receiver):
    base = business["url"]
    page = new_page()
    page.goto(f"{base}/portal/login/")
    page.fill("#id_email", "alpha@reports.test")
    page.fill("#id_password", PASSWORD_BROKER)
    page.click("button[type=submit]")
    page.wait_for_selector("#sales-30")
    page.click("nav.side >> text=Webhooks")
    page.fill("#add-endpoint input[name=url]", broker_receiver.url)
    page.check("#add-endpoint input[value='payout.sent']")
    page.click("#add-endpoint button[type=submit]")
    secret = page.locator("[data-testid=webhook-secret]").inner_text()
    assert re.fullmatch(r"whsec_[A-Za-z0-9_-]{40,}", secret)
    broker_receiver.secret = secret
    shoot(page, "portal-webhook-added")
    page.click(f".endpoint[data-endpoint='{broker_receiver.url}'] >> text=Send test event")
    page.wait_for_selector(".messages >> text=Test event queued")
    _run_worker()
    page.reload()
    row = page.locator("table.deliveries tbody tr").first
    assert row.get_attribute("data-event-type") == "webhook.test"
    assert row.locator("td.status").inner_text().startswith("SUCCEEDED")
    assert row.locator("td.num").first.inner_text() == "200"
    [request] = broker_receiver.requests
    assert request["verified"] and request["json"]["type"] == "webhook.test"
    assert secret not in page.content()  # shown once only
    _to_docs(shoot(page, "portal-webhooks", full_page=True))
