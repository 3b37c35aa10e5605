"""Return URLs: each chosen on its own (request's, else the broker's website, else our own pages).

The blueprint's `success_url || website ? website + "/success" : undefined` threw the request's URL
away whenever one was given and produced "undefined/success" without a website; every combination
is checked here.
"""

import itertools

import pytest

from tradeline.core.errors import ValidationFailed
from tradeline.orders.services import checkout_return_urls, clean_return_url

NUMBER = "TLM-2611-7Q4K9X"
BASE = "https://market.example.com"


class _Broker:
    def __init__(self, website):
        self.website = website


@pytest.fixture(autouse=True)
def public_base(settings):
    settings.PUBLIC_BASE_URL = BASE


@pytest.mark.parametrize(
    "given_success, given_cancel, website",
    list(itertools.product([None, "https://shop.example.com/thanks?o={CHECKOUT_SESSION_ID}"],
                           [None, "http://shop.example.com/basket"],
                           [None, "", "https://broker.example.com", "https://broker.example.com/shop/"])),
)
def test_every_combination_chooses_each_url_independently(given_success, given_cancel, website):
    broker = None if website is None else _Broker(website)
    success, cancel = checkout_return_urls(broker=broker, order_number=NUMBER, success_url=given_success,
                                           cancel_url=given_cancel)
    site = (website or "").rstrip("/")
    expected_success = given_success or (f"{site}/success?order={NUMBER}" if site
                                         else f"{BASE}/checkout/success?order={NUMBER}")
    expected_cancel = given_cancel or (f"{site}/cart" if site else f"{BASE}/checkout/cancel?order={NUMBER}")
    assert (success, cancel) == (expected_success, expected_cancel)
    assert "undefined" not in success + cancel and "None" not in success + cancel


def test_unusable_broker_website_falls_back_to_our_pages():
    for website in ("ftp://broker.example.com", "broker.example.com", "https://broker.example.com/?a=1"):
        success, cancel = checkout_return_urls(broker=_Broker(website), order_number=NUMBER)
        assert success == f"{BASE}/checkout/success?order={NUMBER}"
        assert cancel == f"{BASE}/checkout/cancel?order={NUMBER}"


@pytest.mark.parametrize("url", ["ftp://x.example.com/", "javascript:alert(1)", "/relative", "not a url",
                                 "https://", "http://exa mple.com/", "mailto:a@example.com",
                                 "https://x.example.com/" + "a" * 2000, "data:text/html,hi"])
def test_bad_urls_are_refused(url):
    with pytest.raises(ValidationFailed) as err:
        clean_return_url(url, field="success_url")
    assert (err.value.code, err.value.details[0]["field"]) == ("INVALID_URL", "success_url")


@pytest.mark.parametrize("url", ["http://localhost:8000/ok", "https://shop.example.com/a/b?c=d#e",
                                 "https://127.0.0.1:9000/x", "https://shop.example.com/s?id={CHECKOUT_SESSION_ID}"])
def test_good_urls_pass_unchanged(url):
    assert clean_return_url(f"  {url} ", field="cancel_url") == url


def test_blank_url_means_not_given():
    assert clean_return_url("", field="cancel_url") is None
    assert clean_return_url("   ", field="cancel_url") is None
    assert clean_return_url(None, field="cancel_url") is None
