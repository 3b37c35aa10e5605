"""The Content-Security-Policy in a real browser: the dashboard and the portal work under it.

Chromium reports every blocked script, style, image or form target as a `securitypolicyviolation`
event; the pages are driven through their interactive parts (the portal's live price preview is
an inline script, allowed by its hash) and must raise none.
"""

import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="/usr/bin/chromium is missing"),
]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || ""));
});
"""


def violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def in_own_thread(drive) -> None:
    """Run a Playwright session in a thread of its own: the browser suite's session-wide Playwright
    keeps an asyncio loop in the main thread, and the sync API refuses to start inside one."""
    errors: list[BaseException] = []

    def run():
        try:
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                      args=CHROMIUM_ARGS)
                try:
                    drive(chromium)
                finally:
                    chromium.close()
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=run, name="csp-browser")
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive(), "the browser session did not finish"
    if errors:
        raise errors[0]


def watched(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    console = []
    page.on("console", lambda message: console.append(message.text) if "Content Security Policy" in message.text
            else None)
    return page, console


def test_portal_and_dashboard_run_under_the_policy(live_server, supplier_sim):
    from tradeline.brokers.models import AdminRole
    from tradeline.brokers.services import broker_keys_rotate, broker_set_password
    from tradeline.testing.factories import make_admin, make_broker

    supplier_sim.sync()
    broker = make_broker(email="csp-browser@example.com", website="https://csp.example")
    broker_keys_rotate(broker_id=broker.pk)
    broker_set_password(broker_id=broker.pk, password="portal-password-123")
    make_admin(role=AdminRole.ADMIN, email="csp-admin@example.com", password="admin-password-123")
    base = live_server.url

    def drive(chromium):
        portal, portal_console = watched(chromium)
        portal.goto(f"{base}/portal/login/")
        portal.fill("#id_email", "csp-browser@example.com")
        portal.fill("#id_password", "portal-password-123")
        portal.click("button[type=submit]")
        portal.wait_for_url(f"{base}/portal/")
        portal.goto(f"{base}/portal/settings/")
        state = portal.locator("#preview-state")
        expect(state).to_have_text("current settings")
        portal.fill("#id_markup_percent", "35")
        expect(state).to_have_text("preview (not saved)")  # the inline script ran and fetched the preview
        blocked = violations(portal)
        for path in ("/portal/", "/portal/orders/", "/portal/payouts/", "/portal/keys/", "/portal/embed/"):
            portal.goto(base + path)
            blocked += violations(portal)  # the record starts afresh on every page
        assert blocked == [] and portal_console == []

        admin, admin_console = watched(chromium)
        admin.goto(f"{base}/admin/login/")
        admin.fill("#id_username", "csp-admin@example.com")
        admin.fill("#id_password", "admin-password-123")
        admin.click("input[type=submit]")
        admin.wait_for_url(f"{base}/admin/")
        blocked = []
        for path in ("/admin/", "/admin/orders/order/", "/admin/brokers/broker/",
                     f"/admin/brokers/broker/{broker.pk}/change/", "/admin/payouts/payout/"):
            response = admin.goto(base + path)
            assert response.status < 400, (path, response.status)
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            blocked += violations(admin)
        assert blocked == [] and admin_console == []

    in_own_thread(drive)
