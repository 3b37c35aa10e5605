"""Browser-facing pages: the hosted checkout page and payment links.

Each outcome sends its events (signed, to the webhook URL) before the browser is redirected, so the
shop already knows about the payment when the customer lands on the success page.
"""

import re
from urllib.parse import parse_qs

from tradeline.devtools.stripe_sim.errors import SimError
from tradeline.devtools.stripe_sim.page import render_checkout, render_message
from tradeline.devtools.stripe_sim.state import Customer

_ID = r"([A-Za-z0-9_]+)"
_NOTICES = {
    "declined": "Your card was declined. Try again or use another payment method.",
}


def _html(handler, status: int, html: str) -> None:
    handler.send_bytes(status, html.encode(), "text/html; charset=utf-8")


def _form_customer(body: bytes) -> Customer:
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items() if v}
    customer = Customer()
    for field in ("name", "email", "phone"):
        value = (form.get(field) or "").strip()
        if value:
            setattr(customer, field, value[:200])
    return customer


def _success_url(session: dict) -> str | None:
    url = session.get("success_url")
    return url.replace("{CHECKOUT_SESSION_ID}", session["id"]) if url else None


def handle_page(handler, method: str, path: str, query: dict, body: bytes) -> None:
    sim = handler.sim
    state = sim.state
    m = re.fullmatch
    try:
        if path == "/" and method == "GET":
            _html(handler, 200, render_message(
                "Local Stripe-compatible server",
                f"API base {sim.url} (set STRIPE_API_BASE to it). Webhooks go to {sim.webhook_url or '(none)'}."))
            return
        if (hit := m(rf"/checkout/{_ID}", path)) and method == "GET":
            session = state.session_with_items(hit[1])
            items = session.pop("line_items")
            notice = _NOTICES.get((query.get("notice") or [""])[0])
            _html(handler, 200, render_checkout(session, items, message=notice))
            return
        if (hit := m(rf"/checkout/{_ID}/(pay|pay_delayed|decline|cancel|settle_succeeded|settle_failed)", path)) \
                and method == "POST":
            session_id, action = hit[1], hit[2]
            page = f"/checkout/{session_id}"
            if action == "cancel":
                session = state.snapshot(state.session(session_id))
                handler.redirect(session.get("cancel_url") or page)
                return
            if action == "pay":
                session, events = state.pay(session_id, _form_customer(body))
                target = _success_url(session) or page
            elif action == "pay_delayed":
                session, events = state.pay_delayed(session_id, _form_customer(body))
                target = page
            elif action == "decline":
                session, events = state.decline(session_id, _form_customer(body))
                target = f"{page}?notice=declined"
            else:
                session, events = state.settle(session_id, action == "settle_succeeded")
                target = _success_url(session) or page
            sim.deliverer.deliver_all(events)
            handler.redirect(target)
            return
        if (hit := m(rf"/pay/{_ID}", path)) and method == "GET":
            session = state.open_payment_link(hit[1], sim.url)
            handler.redirect(session["url"])
            return
    except SimError as exc:
        _html(handler, exc.status, render_message("Checkout", exc.message))
        return
    _html(handler, 404, render_message("Not found", "There is no page here."))
