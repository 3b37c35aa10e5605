"""Routing of the Stripe API subset: /v1/... -> (status, JSON body, events to deliver)."""

import re

from tradeline.devtools.stripe_sim import disputes
from tradeline.devtools.stripe_sim import objects as o
from tradeline.devtools.stripe_sim.errors import SimError

_ID = r"([A-Za-z0-9_]+)"
MAX_EXPAND_DEPTH = 4  # Stripe expands at most four levels (a.b.c.d)
# Which fields of which object can be expanded, and from which table of the state.
_EXPANDABLE: dict[str, dict[str, str]] = {
    "checkout.session": {"payment_intent": "payment_intents", "payment_link": "payment_links",
                         "line_items": "@line_items", "customer": "", "invoice": "", "setup_intent": "",
                         "subscription": ""},
    "payment_intent": {"latest_charge": "charges", "customer": "", "payment_method": "", "application": "",
                       "on_behalf_of": "", "review": ""},
    "charge": {"payment_intent": "payment_intents", "refunds": "@refunds", "balance_transaction": "",
               "customer": "", "application_fee": "", "review": "", "source_transfer": "",
               "failure_balance_transaction": "", "on_behalf_of": "", "transfer": "", "application": ""},
    "refund": {"charge": "charges", "payment_intent": "payment_intents", "balance_transaction": "",
               "failure_balance_transaction": "", "source_transfer_reversal": "", "transfer_reversal": ""},
    "dispute": {"charge": "charges", "payment_intent": "payment_intents"},
    "item": {},
    "price": {"product": "products"},
    "payment_link": {"application": "", "on_behalf_of": ""},
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


def _cannot(path: str) -> SimError:
    return SimError(400, f"This property cannot be expanded ({path}).", param="expand")


def _expand_field(state, obj: dict, parts: list[str], full: str) -> None:
    """Expand obj[parts[0]] (an id, or a list for `data`), then the rest of the path inside it."""
    head, rest = parts[0], parts[1:]
    if obj.get("object") == "list" and head == "data":
        if rest:
            for row in obj["data"]:
                _expand_field(state, row, rest, full)
        return
    kind = obj.get("object")
    table = _EXPANDABLE.get(kind, {}).get(head)
    if kind == "item" and head == "price" and rest:  # a line item's price is always an object
        _expand_field(state, obj["price"], rest, full)
        return
    if table is None or head not in obj and not table.startswith("@"):
        raise _cannot(full)
    value = obj.get(head)
    if table == "@line_items":
        value = o.list_object(state.snapshot(state.line_items(obj["id"])),
                              f"/v1/checkout/sessions/{obj['id']}/line_items")
    elif table == "@refunds":
        rows = state.snapshot(state.refunds_for(charge=obj["id"]))
        value = o.list_object(rows, f"/v1/charges/{obj['id']}/refunds")
    elif isinstance(value, str) and table:
        value = state.snapshot(getattr(state, table)[value])
    obj[head] = value
    if rest and isinstance(value, dict):
        _expand_field(state, value, rest, full)


def _expand(sim, obj: dict, params: dict) -> dict:
    """A snapshot of obj with the requested `expand[]` paths replaced by their objects. Dotted paths
    (`payment_intent.latest_charge`, `line_items.data.price.product`) go up to four levels."""
    state = sim.state
    fields = params.get("expand") or []
    if isinstance(fields, str):
        fields = [fields]
    with state.lock:
        out = state.snapshot(obj)
        for field in fields:
            parts = str(field).split(".")
            if len(parts) > MAX_EXPAND_DEPTH:
                raise SimError(400, f"You cannot expand more than {MAX_EXPAND_DEPTH} levels of a property "
                               f"({field}).", param="expand")
            _expand_field(state, out, parts, field)
    return out


def _expand_list(sim, listing: dict, params: dict) -> dict:
    """`expand[]=data.price.product` on a list."""
    fields = params.get("expand") or []
    if isinstance(fields, str):
        fields = [fields]
    with sim.state.lock:
        for field in fields:
            parts = str(field).split(".")
            if parts[0] != "data" or len(parts) > MAX_EXPAND_DEPTH:
                raise _cannot(field)
            _expand_field(sim.state, listing, parts, field)
    return listing


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
        return 200, _expand_list(sim, _page(items, params, path), params), []
    if (hit := m(rf"/v1/checkout/sessions/{_ID}/expire", path)) and method == "POST":
        session, events = state.expire(hit[1], ctx)
        return 200, _expand(sim, session, params), events

    if path == "/v1/payment_links" and method == "POST":
        return 200, _expand(sim, state.create_payment_link(params, sim.url), params), []
    if (hit := m(rf"/v1/payment_links/{_ID}", path)) and method == "GET":
        return 200, _expand(sim, state.payment_link(hit[1]), params), []
    if (hit := m(rf"/v1/payment_links/{_ID}", path)) and method == "POST":
        return 200, _expand(sim, state.update_payment_link(hit[1], params), params), []

    if path == "/v1/refunds" and method == "POST":
        refund, events = state.create_refund(params, ctx)
        return 200, _expand(sim, refund, params), events
    if path == "/v1/refunds" and method == "GET":
        rows = state.refunds_for(charge=params.get("charge") or None,
                                 payment_intent=params.get("payment_intent") or None)
        return 200, _expand_list(sim, _page(state.snapshot(rows), params, path), params), []
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
