import pytest

from tradeline.testing.factories import add_checkout_session

WEBHOOK_SECRET = "whsec_test_payments_suite"


@pytest.fixture(autouse=True)
def _webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_WEBHOOK_SECRETS_PREVIOUS = ""
    settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300


@pytest.fixture
def broker(make_broker):
    return make_broker(share="10", markup_percent="20")


@pytest.fixture
def order(make_order, broker):
    """A PENDING broker order: P = $1,000.00, r = 10 %, markup 20 % -> $1,200.00 charged, broker earns $300."""
    o = make_order(broker=broker, prices=(100_000,))
    add_checkout_session(o)
    return o
