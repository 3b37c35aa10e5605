"""The hosted Connect onboarding page and the Connect test controls of the local Stripe server.

Page: `GET /connect/onboarding/<token>` (what an account link's `url` opens). "Complete with test
data" fills every requirement (payouts enabled); "Submit, leave the bank account for later" submits
the details but leaves `external_account` due (payouts stay disabled). Both send `account.updated`
(signed, to the webhook URL) before redirecting to the link's `return_url`. An expired or used
link redirects to its `refresh_url`, as Stripe does.

Controls (JSON, no auth, like the rest of /_sim/):
  POST /_sim/connect/accounts/<id>/complete | /requirements_due | /restrict   {"due": [...], "deliver": true}
  POST /_sim/connect/balance        {"available": <cents>}
  POST /_sim/connect/slow_after     {"path": "/v1/transfers", "delay_ms": 3000, "count": 1}
  GET  /_sim/connect/transfers      every transfer (with reversals)
"""

import html
import re

from tradeline.devtools.stripe_sim.controls import control_json
from tradeline.devtools.stripe_sim.errors import SimError
from tradeline.devtools.stripe_sim.page import render_message

_TOKEN = r"([A-Za-z0-9]+)"


def _page(account: dict, token: str) -> str:
    due = ", ".join(account["requirements"]["currently_due"]) or "nothing"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Stripe Express onboarding</title>
<style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;color:#1a1f36}}
button{{display:block;width:100%;margin:.6rem 0;padding:.8rem;border-radius:6px;border:1px solid #635bff;
background:#635bff;color:#fff;font-size:1rem;cursor:pointer}} button.secondary{{background:#fff;color:#635bff}}
small{{color:#697386}}</style></head><body>
<h1>Get paid with Stripe</h1>
<p>Test mode account <code>{html.escape(account['id'])}</code> ({html.escape(account['country'])}).</p>
<p><small>Stripe still needs: {html.escape(due)}</small></p>
<form method="post" action="/connect/onboarding/{token}/complete">
<button type="submit" id="complete">Complete with test data</button></form>
<form method="post" action="/connect/onboarding/{token}/partial">
<button type="submit" class="secondary" id="partial">Submit, leave the bank account for later</button></form>
</body></html>"""


def handle_page(handler, method: str, path: str) -> bool:
    """Serve a Connect page; False when the path is not one."""
    sim = handler.sim
    connect = sim.connect
    m = re.fullmatch
    if (hit := m(rf"/connect/onboarding/{_TOKEN}", path)) and method == "GET":
        link = connect.open_link(hit[1])
        if link is None:
            _expired_link(handler, connect, hit[1])
            return True
        with connect.lock:
            account = dict(connect.account(link["account"]))
        _html(handler, 200, _page(account, hit[1]))
        return True
    if (hit := m(rf"/connect/onboarding/{_TOKEN}/(complete|partial)", path)) and method == "POST":
        link = connect.use_link(hit[1])
        if link is None:
            _expired_link(handler, connect, hit[1])
            return True
        if hit[2] == "complete":
            events = connect.complete_onboarding(link["account"])
        else:
            events = connect.leave_requirements_due(link["account"])
        sim.deliverer.deliver_all(events)
        handler.redirect(link["return_url"])
        return True
    return False


def _expired_link(handler, connect, token: str) -> None:
    """A used or expired onboarding link goes to its refresh_url (as Stripe's do); an unknown one is a 404."""
    record = connect.links.get(token)
    if record is None:
        _html(handler, 404, render_message("Onboarding", "This link does not exist."))
    else:
        handler.redirect(record["refresh_url"])


def _html(handler, status: int, text: str) -> None:
    handler.send_bytes(status, text.encode(), "text/html; charset=utf-8")


def handle_control(sim, method: str, path: str, body: bytes) -> tuple[int, dict]:
    connect = sim.connect
    data = control_json(body) if method == "POST" else {}
    m = re.fullmatch
    if (hit := m(r"/_sim/connect/accounts/([A-Za-z0-9_]+)/(complete|requirements_due|restrict)", path)) \
            and method == "POST":
        due = data.get("due")
        if due is not None and (not isinstance(due, list) or not all(isinstance(d, str) for d in due)):
            raise SimError(400, "due must be a list of requirement names.", param="due")
        action = {"complete": lambda a: connect.complete_onboarding(a),
                  "requirements_due": lambda a: connect.leave_requirements_due(a, due),
                  "restrict": lambda a: connect.restrict(a, due)}[hit[2]]
        events = action(hit[1])
        deliveries = sim.deliverer.deliver_all(events) if data.get("deliver", True) is not False else []
        with connect.lock:
            account = dict(connect.account(hit[1]))
        return 200, {"object": account, "events": [e["id"] for e in events], "deliveries": deliveries}
    if path == "/_sim/connect/balance" and method == "POST":
        available = data.get("available")
        if isinstance(available, bool) or not isinstance(available, int) or available < 0:
            raise SimError(400, "available must be a non-negative integer (cents).", param="available")
        with connect.lock:
            connect.available = available
        return 200, connect.balance()
    if path == "/_sim/connect/slow_after" and method == "POST":
        delay = data.get("delay_ms")
        if isinstance(delay, bool) or not isinstance(delay, int) or delay <= 0:
            raise SimError(400, "delay_ms must be a positive integer.", param="delay_ms")
        count = data.get("count")
        connect.set_slow_after(path=str(data.get("path") or "/v1/"), delay_ms=delay,
                               count=count if isinstance(count, int) and count > 0 else None)
        return 200, {"slow_after": connect.slow_after}
    if path == "/_sim/connect/transfers" and method == "GET":
        with connect.lock:
            return 200, {"data": [dict(t) for t in connect.transfers.values()]}
    raise SimError(404, f"Unknown control: {method} {path}")
