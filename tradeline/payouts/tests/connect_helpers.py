"""Brokers onboarded on the local Stripe server, and payouts ready to send."""

import httpx

from tradeline.payouts.models import ConnectedAccount
from tradeline.payouts.services import payout_create_monthly
from tradeline.payouts.services.connect import connect_account_refresh, connect_onboarding_link
from tradeline.payouts.tests.helpers import paid_order, utc

RETURN = "http://testserver/portal/get-paid/return"
REFRESH = "http://testserver/portal/get-paid/refresh"


def onboard(broker, *, complete: bool = True) -> ConnectedAccount:
    """Walk the broker through the hosted onboarding page (complete, or leave requirements due)."""
    url = connect_onboarding_link(broker=broker, refresh_url=REFRESH, return_url=RETURN)
    page = httpx.get(url)
    assert page.status_code == 200
    done = httpx.post(f"{url}/{'complete' if complete else 'partial'}")
    assert done.status_code == 303 and done.headers["location"] == RETURN
    return connect_account_refresh(broker=broker)


def september_payout(broker, prices=(100_000,)):
    """A PENDING September 2026 payout (share 10 % + markup 20 % of each price: 30 % of it)."""
    for price in prices:
        paid_order(broker=broker, paid_at=utc(2026, 9, 10), prices=(price,))
    return payout_create_monthly(broker=broker, year=2026, month=9, now=utc(2026, 10, 2))
