import logging

import httpx
import pytest
from cryptography.fernet import Fernet

from tradeline.payouts.models import ConnectedAccount, TaxProfile
from tradeline.payouts.tests.helpers import paid_order, utc
from tradeline.portal.tests.test_portal import broker, portal  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_cache")]


def test_get_paid_onboarding_through_the_portal(portal, broker, stripe_sim):
    page = portal.get("/portal/get-paid/")
    assert b"manual transfer" in page.content and b"start-onboarding" in page.content
    start = portal.post("/portal/get-paid/start")
    assert start.status_code == 302 and start["Location"].startswith(f"{stripe_sim.url}/connect/onboarding/")
    account = ConnectedAccount.objects.get(broker=broker)
    # The broker finishes on Stripe's page and comes back to the return URL.
    done = httpx.post(f"{start['Location']}/complete")
    assert done.headers["location"] == "http://testserver/portal/get-paid/return"
    back = portal.get("/portal/get-paid/return", follow=True)
    assert b"Your Stripe account is ready" in back.content
    assert b'data-field="payouts_enabled">yes' in back.content and b"continue-onboarding" not in back.content
    # Starting again reuses the account.
    portal.post("/portal/get-paid/start")
    assert ConnectedAccount.objects.filter(broker=broker).count() == 1
    assert ConnectedAccount.objects.get(broker=broker).stripe_account_id == account.stripe_account_id


def test_requirements_due_shows_continue_onboarding(portal, broker, stripe_sim):
    start = portal.post("/portal/get-paid/start")
    httpx.post(f"{start['Location']}/partial")
    page = portal.get("/portal/get-paid/return", follow=True)
    assert b"Stripe still needs some details" in page.content and b"continue-onboarding" in page.content
    assert b"<code>external_account</code>" in page.content
    refresh = portal.get("/portal/get-paid/refresh")
    assert refresh["Location"].startswith(f"{stripe_sim.url}/connect/onboarding/")


def test_tax_details_form_masks_the_tin_and_never_logs_it(portal, broker, settings, caplog):
    settings.TAX_ID_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    caplog.set_level(logging.DEBUG)
    form = {"legal_name": "Dana Broker", "business_type": "INDIVIDUAL", "tin_type": "SSN", "tin": "123-45-6789",
            "address_line1": "1 Main St", "city": "Albany", "state": "NY", "postal_code": "12207"}
    bad = portal.post("/portal/tax/", {**form, "postal_code": "ABC"})
    assert bad.status_code == 422 and TaxProfile.objects.count() == 0
    saved = portal.post("/portal/tax/", form, follow=True)
    assert b"Your tax details are saved" in saved.content
    assert b"***-**-6789" in saved.content and b"123-45-6789" not in saved.content
    assert TaxProfile.objects.get(broker=broker).tin_last4 == "6789"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "123-45-6789" not in logged and "123456789" not in logged


def test_statement_page_and_csv(portal, broker):
    paid_order(broker=broker, paid_at=utc(2026, 5, 5), prices=(100_000,))
    page = portal.get("/portal/statement/?year=2026")
    assert page.status_code == 200 and b"$100.00" in page.content and b"$200.00" in page.content
    csv_resp = portal.get("/portal/statement/2026.csv")
    assert "2026-05,100.00,200.00,0.00,0.00,0.00" in csv_resp.content.decode()
