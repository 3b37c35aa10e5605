"""The widget's cart and checkout, in a real browser at desktop (1280 px) and phone (390 px) widths: the
cart across a cancelled Stripe payment and a reload, inline checkout errors, a keyboard-only purchase,
the phone's sticky cart bar and sheet, and axe-core. Fixture and helpers: widget_shop.py.
"""

import re
from datetime import timedelta

import pytest

from tests.browser.widget_shop import (  # noqa: F401 (storefront is a fixture)
    DESKTOP,
    HOST,
    PHONE,
    axe_serious,
    docs,
    focused,
    open_shop,
    show_cart,
    storefront,
    tab_to,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# --- cart and checkout ---------------------------------------------------------------------------

@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_cart_survives_a_cancelled_payment_and_a_reload_and_is_rechecked(storefront, new_page, viewport):
    from django.core.cache import cache
    from django.utils import timezone

    from tradeline.catalog.models import Tradeline
    from tradeline.catalog.memo import forget_catalog_memo
    from tradeline.orders.models import Order, OrderStatus

    base = storefront["url"]
    page, widget = open_shop(new_page, base, viewport)
    cards = widget.locator(".card:not(.low):not(.sold-out)")
    first, second = cards.nth(0).get_attribute("data-card-id"), cards.nth(1).get_attribute("data-card-id")
    cards.nth(0).locator("button.add").click()
    cards.nth(1).locator("button.add").click()
    show_cart(widget, viewport)
    widget.locator(f".line[data-card-id='{first}'] select.qty").select_option("2")
    widget.locator("#tlm-email").fill("sam@example.com")
    widget.locator("#tlm-agreement").check()
    widget.locator("button.buy").click()
    page.wait_for_url(re.compile(r"/checkout/cs_"))
    page.click("button.alt >> text=Cancel and return to the shop")
    page.wait_for_url(re.compile(r"/demo/cart"))
    page.locator(f"{HOST} .line").first.wait_for(state="attached")
    assert page.locator("#cancelled-banner").is_visible()
    if viewport == PHONE:
        assert "3 items" in widget.locator(".bar").inner_text()
    show_cart(widget, viewport)
    assert widget.locator(".line").count() == 2
    assert widget.locator(f".line[data-card-id='{first}'] select.qty").input_value() == "2"
    assert widget.locator("#tlm-email").input_value() == "sam@example.com"
    assert Order.objects.get().status in (OrderStatus.PENDING, OrderStatus.CANCELLED)

    # The catalog changes meanwhile: one price up, the other line sold out. A reload re-checks.
    Tradeline.objects.filter(card_id=first).update(price=123_400, synced_at=timezone.now() + timedelta(seconds=1))
    Tradeline.objects.filter(card_id=second).update(stock=0, synced_at=timezone.now() + timedelta(seconds=1))
    forget_catalog_memo()
    cache.clear()
    page.reload()
    page.locator(f"{HOST} .line").first.wait_for(state="attached")
    show_cart(widget, viewport)
    assert widget.locator(".line").count() == 1
    notice = widget.locator(".cart .notice").inner_text()
    assert "sold out and was removed" in notice and "price of" in notice and "changed from" in notice
    assert widget.locator(".line .amount").inner_text() == widget.locator(".total-amount").inner_text()


def test_checkout_errors_are_shown_inline(storefront, new_page, settings):
    from tradeline.catalog.models import Tradeline
    from tradeline.core import ratelimit
    from tradeline.orders.models import Order

    base = storefront["url"]
    page, widget = open_shop(new_page, base)
    card = widget.locator(".card:not(.low):not(.sold-out)").first
    card_id = card.get_attribute("data-card-id")
    card.locator("button.add").click()
    widget.locator("button.buy").click()
    email = widget.locator("#tlm-email")
    assert email.get_attribute("aria-invalid") == "true"
    assert "valid email" in widget.locator("#tlm-err-email").inner_text()
    email.fill("ok@example.com")
    assert widget.locator("#tlm-err-email").count() == 0
    # The agreement is required too: refused inline until ticked.
    widget.locator("button.buy").click()
    assert "accept the Tradeline User Agreement" in widget.locator(".agreement .error").inner_text()
    widget.locator("#tlm-agreement").check()

    # Stock taken by someone else after the page loaded: the API's 422 OUT_OF_STOCK lands on the line.
    Tradeline.objects.filter(card_id=card_id).update(stock=0)
    widget.locator("button.buy").click()
    widget.locator(".line .msg").wait_for()
    assert "Sold out since you added it" in widget.locator(".line .msg").inner_text()
    assert "no longer have enough stock" in widget.locator(".form-error").inner_text()

    # A name the API refuses (422 naming customer_name) is shown under the name field.
    Tradeline.objects.filter(card_id=card_id).update(stock=5)
    widget.locator("#tlm-name").fill("x" * 300)
    widget.locator("button.buy").click()
    widget.locator("#tlm-err-name").wait_for()
    assert widget.locator("#tlm-name").get_attribute("aria-invalid") == "true"

    # Too many attempts (429 RATE_LIMITED): one message above the Buy button. Only checkouts that
    # reach Stripe count (a request refused for stock costs nothing), so this address's one
    # checkout of the window is taken beforehand, as an earlier Stripe session would have.
    widget.locator("#tlm-name").fill("Ann Example")
    Tradeline.objects.filter(card_id=card_id).update(stock=0)
    settings.RATE_LIMIT_CHECKOUT = "1/3600"
    ratelimit.acquire(None, scope="checkout", rule="1/3600", ip="127.0.0.1")
    widget.locator("button.buy").click()
    page.wait_for_function(f"() => (document.querySelector('{HOST}').shadowRoot.querySelector('.form-error') || {{}})"
                           f".textContent?.includes('Too many attempts')")
    assert Order.objects.count() == 0


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_keyboard_only_purchase(storefront, new_page, viewport):
    from tradeline.orders.models import Order

    base = storefront["url"]
    page, widget = open_shop(new_page, base, viewport)
    page.locator("body").focus()
    tab_to(page, ".card:not(.low):not(.sold-out) button.add")
    page.keyboard.press("Enter")
    assert widget.locator(".line").count() == 1 if viewport == DESKTOP else "1 item" in widget.locator(".bar").inner_text()
    if viewport == PHONE:
        tab_to(page, "button.open-cart", limit=400)
        page.keyboard.press("Enter")
        assert widget.locator(".sheet").is_visible()
        assert "close" in focused(page)
        page.keyboard.press("Escape")
        assert not widget.locator(".sheet").is_visible()
        assert "open-cart" in focused(page)
        page.keyboard.press("Enter")
    tab_to(page, "#tlm-email")
    page.keyboard.type("kim@example.com")
    tab_to(page, "#tlm-agreement")
    page.keyboard.press("Space")
    tab_to(page, "button.buy")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/checkout/cs_"))
    for _ in range(12):  # Stripe's own terms box (consent_collection) comes first
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.name === 'terms_of_service'"):
            break
    page.keyboard.press("Space")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.classList.contains('pay')"):
            break
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/demo/success"))
    order = Order.objects.get(order_number=page.locator("#order-number").inner_text())
    assert (order.customer_email, order.items.count()) == ("kim@example.com", 1)
    # Bought: back in the shop the cart is empty.
    page.goto(f"{base}/demo/")
    page.locator(f"{HOST} .card").first.wait_for()
    assert page.evaluate("() => Object.keys(sessionStorage).filter(k => k.startsWith('tlm-cart:')).length") == 0
    assert "0 items" in widget.locator(".bar").inner_text() if viewport == PHONE \
        else widget.locator(".cart .empty").inner_text() == "Your cart is empty."


# --- phone layout and accessibility --------------------------------------------------------------

def test_phone_has_a_sticky_cart_bar_and_the_cart_as_a_sheet(storefront, new_page, shoot):
    page, widget = open_shop(new_page, storefront["url"], PHONE)
    bar = widget.locator(".bar")
    assert widget.locator("aside.side").is_hidden()
    widget.locator(".card:not(.sold-out) button.add").nth(0).click()
    widget.locator(".card:not(.sold-out) button.add").nth(1).click()
    page.mouse.wheel(0, 4000)
    box = bar.bounding_box()
    assert box and box["y"] + box["height"] <= PHONE[1] + 1 and box["y"] >= PHONE[1] - 120
    assert "2 items" in bar.inner_text()
    assert widget.locator("[role=status]").inner_text().startswith("Added")
    page.mouse.wheel(0, -4000)
    shoot(page, "widget-phone")
    bar.locator("button.open-cart").click()
    sheet = widget.locator(".sheet[role=dialog]")
    assert sheet.is_visible() and sheet.get_attribute("aria-modal") == "true"
    assert sheet.locator(".line").count() == 2
    shoot(page, "widget-phone-cart")
    assert axe_serious(page) == []
    page.keyboard.press("Escape")
    assert sheet.is_hidden()
    docs(["widget-phone", "widget-phone-cart"])


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_axe_finds_no_serious_violation_in_the_widget(storefront, new_page, viewport):
    page, widget = open_shop(new_page, storefront["url"], viewport)
    widget.locator(".card:not(.sold-out) button.add").first.click()
    widget.locator("details.more summary").click()
    widget.locator("details.exclude summary").click()
    widget.locator("button.buy").click() if viewport == DESKTOP else None  # inline error state too
    assert axe_serious(page) == []
