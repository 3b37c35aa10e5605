"""Routing of the Stripe API subset: /v1/... -> (status, JSON body, events to deliver)."""

import re

from tradeline.devtools.stripe_sim import disputes
from tradeline.devtools.stripe_sim import objects as o
from tradeline.devtools.stripe_sim.errors import SimError

_ID = r"([A-Za-z0-9_]+)"
# Which id fields of which object can be expanded, and from which table.
_EXPANDABLE = {
    "payment_intent": "payment_intents",
    "latest_charge": "charges",
    "charge": "charges",
    "payment_link": "payment_links",
}


def _page(rows: list[dict], params: dict, url: str) -> dict:
    limit = o.parse_int(params.get("limit", 10), "limit", minimum=1, maximum=100)
    start = 0
    after = params.get("starting_after")
    if after:
        ids = [r["id"] for r in rows]
        if after not in ids:
            raise SimError(400, f"Invalid starting_after id: {after}", param="starting_after")
        start = ids.index(after) + 1
    data = rows[start:start + limit]
    return o.list_object(data, url, has_more=start + limit < len(rows))


def _expand(sim, obj: dict, params: dict) -> dict:
    """A snapshot of obj with the requested `expand[]` fields replaced by their objects."""
    state = sim.state
    fields = params.get("expand") or []
    if isinstance(fields, str):
        fields = [fields]
    with state.lock:
        out = state.snapshot(obj)
        for field in fields:
            if field == "line_items" and out.get("object") == "checkout.session":
                out["line_items"] = o.list_object(state.snapshot(state.line_items(out["id"])),
                                                  f"/v1/checkout/sessions/{out['id']}/line_items")
            elif field in _EXPANDABLE and field in out:
                value = out[field]
                if isinstance(value, str):
                    out[field] = state.snapshot(getattr(state, _EXPANDABLE[field])[value])
            else:
                raise SimError(400, f"This property cannot be expanded ({field}).", param="expand")
    return out


def route(sim, method: str, path: str, params: dict, ctx: dict) -> tuple[int, dict, list[dict]]:
    state = sim.state
    m = re.fullmatch

    if path == "/v1/checkout/sessions" and method == "POST":
        session = state.create_session(params, sim.url, ctx=ctx)
        return 200, _expand(sim, session, params), []
    if (hit := m(rf"/v1/checkout/sessions/{_ID}", path)) and method == "GET":
        return 200, _expand(sim, state.session(hit[1]), params), []
    if (hit := m(rf"/v1/checkout/sessions/{_ID}/line_items", path)) and method == "GET":
        items = state.snapshot(state.line_items(hit[1]))
        return 200, _page(items, params, path), []
    if (hit := m(rf"/v1/checkout/sessions/{_ID}/expire", path)) and method == "POST":
        session, events = state.expire(hit[1], ctx)
        return 200, _expand(sim, session, params), events

    if path == "/v1/payment_links" and method == "POST":
        return 200, _expand(sim, state.create_payment_link(params, sim.url), params), []
    if (hit := m(rf"/v1/payment_links/{_ID}", path)) and method == "GET":
        return 200, _expand(sim, state.payment_link(hit[1]), params), []

    if path == "/v1/refunds" and method == "POST":
        refund, events = state.create_refund(params, ctx)
        return 200, _expand(sim, refund, params), events
    if path == "/v1/refunds" and method == "GET":
        rows = state.refunds_for(charge=params.get("charge") or None,
                                 payment_intent=params.get("payment_intent") or None)
        return 200, _page(state.snapshot(rows), params, path), []
    if (hit := m(rf"/v1/refunds/{_ID}", path)) and method == "GET":
        return 200, _expand(sim, state.refund(hit[1]), params), []

    if (hit := m(rf"/v1/payment_intents/{_ID}", path)) and method == "GET":
        return 200, _expand(sim, state.payment_intent(hit[1]), params), []
    if (hit := m(rf"/v1/charges/{_ID}", path)) and method == "GET":
        return 200, _expand(sim, state.charge(hit[1]), params), []
    if (hit := m(rf"/v1/disputes/{_ID}", path)) and method == "GET":
        return 200, _expand(sim, state.dispute(hit[1]), params), []
    if (hit := m(rf"/v1/disputes/{_ID}", path)) and method == "POST":
        dispute, events = disputes.update_dispute(state, hit[1], params)
        return 200, _expand(sim, dispute, params), events
    if (hit := m(rf"/v1/events/{_ID}", path)) and method == "GET":
        return 200, state.snapshot(state.event(hit[1])), []
    if path == "/v1/events" and method == "GET":
        with state.lock:
            rows = [e for e in reversed(state.events) if not params.get("type") or e["type"] == params["type"]]
            return 200, _page(state.snapshot(rows), params, path), []

    raise SimError(404, f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or "
                   "the local Stripe server's module docstring for what it supports.")
