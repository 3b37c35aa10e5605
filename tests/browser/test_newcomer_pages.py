"""What a newcomer meets, in a real browser: API docs offline, honest return pages that refresh
themselves, the admin's Outbox, the markup preview, one date format on the widget cards, and a
demo page that follows the key the broker rotates."""

import re

import pytest
from django.core.mail import send_mail

from tests.browser.logins import login_admin, login_broker

PASSWORD_ADMIN = "admin-browser-pass-2"
PASSWORD_BROKER = "broker-browser-pass-2"
FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


@pytest.fixture
def stack(live_server, supplier_sim, settings):
    """Live server, a synced catalog, an ACTIVE broker with a portal password and a demo page, an admin."""
    from django.contrib.auth import get_user_model
    from django.core.cache import cache

    from tradeline.brokers import services as brokers
    from tradeline.brokers.models import AdminProfile, AdminRole
    from tradeline.widget.services import demo_page_set

    cache.clear()
    settings.PUBLIC_BASE_URL = live_server.url
    assert supplier_sim.sync().status == "SUCCEEDED"
    broker = brokers.broker_create(name="Dana Demo", email="dana@newcomer.test", business_name="Demo Credit Partners",
                                   website=f"{live_server.url}/demo/")
    brokers.broker_admin_update(broker_id=broker.pk, allowed_origins=[live_server.url],
                                markup_type="PERCENTAGE", markup_percent="20")
    brokers.broker_approve(broker_id=broker.pk)
    brokers.broker_set_password(broker_id=broker.pk, password=PASSWORD_BROKER)
    keys = brokers.broker_keys_rotate(broker_id=broker.pk)
    demo_page_set(broker=broker, publishable_key=keys["publishable_key"])
    admin = get_user_model().objects.create_user(username="ops@newcomer.test", email="ops@newcomer.test",
                                                 password=PASSWORD_ADMIN, is_staff=True)
    AdminProfile.objects.create(user=admin, role=AdminRole.ADMIN)
    yield {"url": live_server.url, "broker": broker, "keys": keys}
    cache.clear()


def _offline(page, base: str) -> list[str]:
    """Refuse every request that leaves the local server (as without internet); returns what was refused."""
    refused: list[str] = []

    def route(request_route):
        if request_route.request.url.startswith(base):
            request_route.continue_()
        else:
            refused.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    return refused


def _login_admin(page, base: str) -> None:
    login_admin(page, base, email="ops@newcomer.test", password=PASSWORD_ADMIN)


def _login_broker(page, base: str) -> None:
    login_broker(page, base, email="dana@newcomer.test", password=PASSWORD_BROKER)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_api_docs_render_without_internet(live_server, new_page, shoot):
    page = new_page()
    refused = _offline(page, live_server.url)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server.url}/api/docs")

    page.wait_for_selector(".swagger-ui .info .title")
    assert "Tradeline Marketplace API" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() > 20
    assert refused == [] and errors == []
    shoot(page, "api-docs-offline")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_success_page_waits_then_shows_the_settled_order(stack, make_order, new_page, shoot):
    from tradeline.orders.models import FulfillmentStatus, Order, OrderStatus
    from tradeline.testing.factories import add_checkout_session

    order = make_order(broker=stack["broker"])
    add_checkout_session(order, "cs_test_browser_wait")
    page = new_page()
    page.goto(f"{stack['url']}/demo/success?session_id=cs_test_browser_wait")
    assert page.locator("h1").inner_text() == "Waiting for your payment"
    assert page.locator("#return").get_attribute("data-state") == "waiting"
    shoot(page, "return-waiting")

    Order.objects.filter(pk=order.pk).update(status=OrderStatus.COMPLETED,
                                             fulfillment_status=FulfillmentStatus.SUCCEEDED)

    page.wait_for_selector("#return[data-state=placed]", timeout=10_000)  # the page refreshed itself
    assert page.locator("h1").inner_text() == "Thank you for your order!"
    assert page.locator("#order-number").inner_text() == order.order_number
    shoot(page, "return-placed")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_failed_debit_page_is_red_and_thanks_nobody(stack, make_order, new_page, shoot):
    from tradeline.orders.models import Order, OrderStatus
    from tradeline.testing.factories import add_checkout_session

    order = make_order(broker=stack["broker"])
    add_checkout_session(order, "cs_test_browser_failed")
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.FAILED)
    page = new_page()
    page.goto(f"{stack['url']}/demo/success?session_id=cs_test_browser_failed")

    assert page.locator("h1").inner_text() == "Your payment failed"
    assert "Thank you" not in page.content()
    banner = page.locator("#order-status")
    assert banner.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(254, 242, 242)"
    shoot(page, "return-failed")
    page.goto(f"{stack['url']}/demo/success?session_id={{CHECKOUT_SESSION_ID}}")
    assert page.locator("h1").inner_text() == "We could not tell which order this is"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_outbox_lists_and_shows_the_mail(stack, settings, tmp_path, new_page, shoot):
    settings.IS_DEVELOPMENT, settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH = True, FILE_BACKEND, tmp_path
    send_mail("Your order TLM-2612-BRWSR1 is confirmed", "Thank you for your order.\nTotal: $1,200.00",
              "orders@tradeline.local", ["jane@example.com"])
    page = new_page()
    _login_admin(page, stack["url"])

    page.click("nav.tl-topnav >> text=Outbox")
    page.wait_for_selector("#outbox")
    assert "Outbox · 1 message" in page.locator("#outbox h2").inner_text()
    shoot(page, "admin-outbox")
    page.click("text=Your order TLM-2612-BRWSR1 is confirmed")

    assert page.locator("#mail pre").inner_text() == "Thank you for your order.\nTotal: $1,200.00"
    assert "jane@example.com" in page.locator("#mail").inner_text()
    shoot(page, "admin-outbox-message")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_markup_preview_clears_prices_for_an_invalid_markup(stack, new_page, shoot):
    page = new_page()
    _login_broker(page, stack["url"])
    page.goto(f"{stack['url']}/portal/settings/")
    rows = page.locator("#preview tbody tr")
    assert rows.count() > 5

    page.check("input[value=FIXED]")
    page.fill("#id_markup_fixed_usd", "99999")
    page.wait_for_selector("#preview-error")
    assert page.locator("#preview-error").inner_text() == (
        "The fixed markup must be between $0.00 and $5,000.00 per tradeline.")
    assert rows.count() == 1  # no stale prices beside the error
    shoot(page, "portal-markup-invalid")

    page.fill("#id_markup_fixed_usd", "50")
    page.wait_for_selector("#preview-state:text('preview (not saved)')")
    assert rows.count() > 5


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_widget_cards_write_every_deadline_one_way(stack, new_page):
    page = new_page()
    page.goto(f"{stack['url']}/demo/")
    widget = page.locator("[data-tradeline-widget]")
    widget.locator(".card").first.wait_for()

    deadlines = widget.locator("dd.deadline").all_inner_texts()

    assert len(deadlines) > 10
    assert [d for d in deadlines if not re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4}", d)] == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_demo_page_keeps_working_after_the_broker_rotates_its_key(stack, new_page):
    broker_page = new_page()
    _login_broker(broker_page, stack["url"])
    broker_page.goto(f"{stack['url']}/portal/keys/")
    broker_page.once("dialog", lambda dialog: dialog.accept())
    broker_page.click("button[name=kind][value=PUBLISHABLE]")
    broker_page.wait_for_selector("text=New keys created")

    shop = new_page()
    shop.goto(f"{stack['url']}/demo/")
    widget = shop.locator("[data-tradeline-widget]")
    widget.locator(".card").first.wait_for()
    assert "invalid or has been revoked" not in widget.inner_text()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_order_list_shows_every_column_beside_the_filters_at_1400px(stack, make_order, new_page, shoot):
    for n in range(3):
        make_order(broker=stack["broker"], customer_email=f"a.rather.long.customer.address{n}@example.com")
    page = new_page(viewport=(1400, 900))
    _login_admin(page, stack["url"])
    page.goto(f"{stack['url']}/admin/orders/order/")

    scroll, visible = page.evaluate("() => { const r = document.querySelector('.results');"
                                    " return [r.scrollWidth, r.clientWidth]; }")
    created = page.locator("#result_list thead th.column-created_col").bounding_box()
    panel = page.locator("#changelist-filter").bounding_box()

    assert scroll <= visible
    assert created["x"] + created["width"] <= panel["x"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", page.locator("#result_list td.field-created_col").first.inner_text())
    shoot(page, "admin-orders-1400")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_cancelled_checkout_comes_back_with_its_cart(stack, stripe_sim, new_page, shoot):
    stripe_sim.set_webhook_url(f"{stack['url']}/api/orders/webhook/stripe")
    page = new_page()
    page.goto(f"{stack['url']}/demo/")
    widget = page.locator("[data-tradeline-widget]")
    widget.locator(".card").first.wait_for()
    bank = widget.locator(".card").nth(1).locator(".bank").inner_text()
    widget.locator(".card").nth(1).locator("button.add").click()
    widget.locator(".line select.qty").select_option("2")
    widget.locator("input[name=email]").fill("back@example.com")
    widget.locator("#tlm-agreement").check()
    widget.locator("button.buy").click()
    page.wait_for_url(re.compile(r"/checkout/cs_"))

    page.click("text=Cancel and return to the shop")

    page.wait_for_url(re.compile(r"/demo/cart"))
    widget.locator(".line").first.wait_for()
    assert widget.locator(".line").count() == 1 and bank in widget.locator(".line").inner_text()
    assert widget.locator(".line select.qty").input_value() == "2"
    assert widget.locator("input[name=email]").input_value() == "back@example.com"
    shoot(page, "demo-cancelled-cart")
