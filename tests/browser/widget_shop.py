"""What the widget shop browser tests share (test_widget_shop.py, test_widget_cart.py): the running
storefront fixture, the viewports and the helpers that read the widget's shadow DOM.

Set UPDATE_DOCS_SCREENSHOTS=1 to copy the README's widget screenshots to docs/screenshots/.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).resolve().parent / "assets" / "axe.min.js"
PASSWORD_BROKER = "broker-widget-pass-1"
DESKTOP, PHONE = (1280, 860), (390, 844)
DOCS_SHOTS = ("widget-desktop", "widget-phone", "widget-phone-cart", "portal-theme")
HOST = "[data-tradeline-widget]"


@pytest.fixture
def storefront(live_server, supplier_sim, stripe_sim, settings):
    """The running stack: an ACTIVE broker with a demo page and a portal login, and the synced catalog."""
    from django.core.cache import cache

    from tradeline.brokers import services as brokers
    from tradeline.widget.services import demo_page_set

    cache.clear()
    settings.PUBLIC_BASE_URL = live_server.url
    assert supplier_sim.sync().status == "SUCCEEDED"
    broker = brokers.broker_create(name="Wes Widget", email="wes@widget.test", business_name="Widget Credit Co",
                                   website=f"{live_server.url}/demo/")
    brokers.broker_admin_update(broker_id=broker.pk, allowed_origins=[live_server.url])
    brokers.broker_approve(broker_id=broker.pk)
    brokers.broker_set_password(broker_id=broker.pk, password=PASSWORD_BROKER)
    key = brokers.broker_keys_rotate(broker_id=broker.pk)["publishable_key"]
    demo_page_set(broker=broker, publishable_key=key)
    yield {"url": live_server.url, "broker": broker, "key": key}
    cache.clear()


# --- helpers -------------------------------------------------------------------------------------

def open_shop(new_page, base: str, viewport=DESKTOP, path: str = "/demo/"):
    page = new_page(viewport)
    page.goto(f"{base}{path}")
    page.locator(f"{HOST} .card").first.wait_for()
    return page, page.locator(HOST)


def shown_total(widget) -> int:
    text = widget.locator(".count").inner_text()
    found = re.search(r"of ([\d,]+) tradeline", text)
    return int(found.group(1).replace(",", "")) if found else 0


def wait_total(page, total: int) -> None:
    """Search is debounced: wait until the count line shows `total` matches."""
    page.wait_for_function(f"() => / of {total:,} tradelines?$/.test(document.querySelector('{HOST}')"
                           f".shadowRoot.querySelector('.count').textContent)")


def show_cart(widget, viewport) -> None:
    """On a phone the cart is a sheet behind the bottom bar: open it (no-op on a desktop)."""
    if viewport == PHONE and widget.locator(".sheet").is_hidden():
        widget.locator(".bar button.open-cart").click()
        widget.locator(".sheet").wait_for()


def available(**filters):
    from tradeline.catalog.models import Tradeline

    return Tradeline.objects.filter(is_available=True, **filters)


def focused(page) -> str:
    return page.evaluate(f"""() => {{
        const a = document.querySelector('{HOST}').shadowRoot.activeElement;
        return a ? (a.className || a.tagName) + '|' + (a.name || a.id || '') : '';
    }}""")


def tab_to(page, selector: str, limit: int = 120) -> None:
    check = f"""(sel) => {{
        const a = document.querySelector('{HOST}').shadowRoot.activeElement;
        return !!a && a.matches(sel);
    }}"""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(check, selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def axe_serious(page) -> list:
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async (host) => {
        const result = await axe.run({include: [[host, '.tlm']]}, {resultTypes: ['violations']});
        return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target)}));
    }""", HOST)


def docs(names) -> None:
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS"):
        for name in names:
            shutil.copyfile(ROOT / "test-output" / "screenshots" / f"{name}.png",
                            ROOT / "docs" / "screenshots" / f"{name}.png")
