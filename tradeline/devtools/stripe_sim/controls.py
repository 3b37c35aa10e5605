"""Test controls of the local Stripe server, JSON over HTTP under /_sim/ (local use only).

  GET  /_sim/health                               -> {"ok", "url", "webhook_url"}
  POST /_sim/reset                                forget every object, event, fault and idempotency key
  POST /_sim/webhook          {"url"}             where events are delivered (null: record only)
  POST /_sim/faults           {"status", "delay_ms", "count", "path", "method"}; DELETE /_sim/faults
  GET  /_sim/sessions/<id>                        the session with its line items
  POST /_sim/sessions/<id>/pay          {"name", "email", "phone", "deliver"}
  POST /_sim/sessions/<id>/pay_delayed  {... , "settle": null | true | false}
  POST /_sim/sessions/<id>/settle       {"succeed": true | false}
  POST /_sim/sessions/<id>/decline      {"decline_code"}
  POST /_sim/sessions/<id>/cancel                 -> {"redirect": cancel_url}; no events (as with Stripe)
  POST /_sim/sessions/<id>/expire
  POST /_sim/payment_links/<id>/open              a customer opens the link: a new session
  POST /_sim/refunds          {"payment_intent" | "charge", "amount"}
  POST /_sim/disputes         {"charge", "amount", "reason", "status": "needs_response" | "warning_needs_response"}
  POST /_sim/disputes/<id>/close {"status": "won" | "lost" | "prevented" | "warning_closed"}
  POST /_sim/disputes/<id>/due_by {"due_by": unix time}   move the evidence deadline
  GET  /_sim/events?type=                         events with their delivery results
  POST /_sim/events/send      {"event_ids": [...]}   deliver these, in this order
  POST /_sim/events/<id>/resend                   one more delivery (signed anew)
  POST /_sim/events/<id>/deliver_concurrently {"n"}
  POST /_sim/drain            {"timeout"}         wait for background deliveries (events caused by API calls)

Events caused by a control are delivered before the control answers, unless "deliver": false
(then they are only recorded, to be sent later with /_sim/events/send in any order).
"""

import json
import re

from tradeline.devtools.stripe_sim.disputes import set_due_by
from tradeline.devtools.stripe_sim.errors import SimError
from tradeline.devtools.stripe_sim.state import Customer

_ID = r"([A-Za-z0-9_]+)"


def control_json(body: bytes) -> dict:
    """The JSON object body of a control request ({} when empty); SimError 400 otherwise."""
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise SimError(400, "Control requests take a JSON object body.") from exc
    if not isinstance(data, dict):
        raise SimError(400, "Control requests take a JSON object body.")
    return data


def _customer(data: dict) -> Customer:
    customer = Customer()
    for field in ("name", "email", "phone"):
        if data.get(field):
            setattr(customer, field, str(data[field]))
    return customer


def _int(data: dict, field: str, default=None):
    value = data.get(field, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SimError(400, f"{field} must be an integer.", param=field)
    return value


def _outcome(sim, obj: dict, events: list[dict], deliver: bool) -> dict:
    deliveries = sim.deliverer.deliver_all(events) if deliver else []
    return {"object": sim.state.snapshot(obj), "events": [e["id"] for e in events], "deliveries": deliveries}


def handle(sim, method: str, path: str, query: dict, body: bytes) -> tuple[int, dict]:
    state = sim.state
    data = control_json(body) if method == "POST" else {}
    deliver = data.get("deliver", True) is not False
    m = re.fullmatch

    if path == "/_sim/health":
        return 200, {"ok": True, "url": sim.url, "webhook_url": sim.webhook_url}
    if path == "/_sim/reset" and method == "POST":
        sim.reset()
        return 200, {"ok": True}
    if path == "/_sim/webhook" and method == "POST":
        url = data.get("url")
        if url is not None and (not isinstance(url, str) or not re.match(r"^https?://", url)):
            raise SimError(400, "url must be an http(s) URL or null.", param="url")
        sim.set_webhook_url(url)
        return 200, {"webhook_url": sim.webhook_url}
    if path == "/_sim/faults":
        if method == "DELETE":
            sim.faults.clear()
            return 200, {"faults": []}
        if method == "POST":
            sim.faults.set(status=_int(data, "status"), delay_ms=_int(data, "delay_ms", 0) or 0,
                           count=_int(data, "count"), path=data.get("path"), method=data.get("method"))
            return 200, {"faults": sim.faults.list()}
        return 200, {"faults": sim.faults.list()}

    if (hit := m(rf"/_sim/sessions/{_ID}", path)) and method == "GET":
        return 200, state.session_with_items(hit[1])
    if (hit := m(rf"/_sim/sessions/{_ID}/(pay|pay_delayed|settle|decline|cancel|expire)", path)) and method == "POST":
        session_id, action = hit[1], hit[2]
        if action == "pay":
            return 200, _outcome(sim, *state.pay(session_id, _customer(data)), deliver)
        if action == "pay_delayed":
            session, events = state.pay_delayed(session_id, _customer(data))
            settle = data.get("settle")
            if settle is not None:
                session, more = state.settle(session_id, bool(settle))
                events = events + more
            return 200, _outcome(sim, session, events, deliver)
        if action == "settle":
            return 200, _outcome(sim, *state.settle(session_id, data.get("succeed", True) is not False), deliver)
        if action == "decline":
            code = str(data.get("decline_code") or "generic_decline")
            return 200, _outcome(sim, *state.decline(session_id, _customer(data), code), deliver)
        if action == "expire":
            return 200, _outcome(sim, *state.expire(session_id), deliver)
        session = state.snapshot(state.session(session_id))  # cancel: the customer just leaves
        return 200, {"object": session, "events": [], "deliveries": [], "redirect": session["cancel_url"]}
    if (hit := m(rf"/_sim/payment_links/{_ID}/open", path)) and method == "POST":
        return 200, {"object": state.snapshot(state.open_payment_link(hit[1], sim.url))}

    if path == "/_sim/refunds" and method == "POST":
        params = {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v)
                  for k, v in data.items() if k in ("payment_intent", "charge", "amount", "reason", "metadata")}
        return 200, _outcome(sim, *state.create_refund(params), deliver)
    if path == "/_sim/disputes" and method == "POST":
        if not data.get("charge"):
            raise SimError(400, "charge is required.", param="charge")
        return 200, _outcome(sim, *state.create_dispute(str(data["charge"]), _int(data, "amount"),
                                                        str(data.get("reason") or "fraudulent"),
                                                        str(data.get("status") or "needs_response")), deliver)
    if (hit := m(rf"/_sim/disputes/{_ID}/due_by", path)) and method == "POST":
        if _int(data, "due_by") is None:
            raise SimError(400, "due_by is required.", param="due_by")
        return 200, set_due_by(state, hit[1], _int(data, "due_by"))
    if (hit := m(rf"/_sim/disputes/{_ID}/close", path)) and method == "POST":
        return 200, _outcome(sim, *state.close_dispute(hit[1], str(data.get("status") or "")), deliver)

    if path == "/_sim/events" and method == "GET":
        event_type = (query.get("type") or [None])[0]
        return 200, {"data": state.event_records(event_type)}
    if path == "/_sim/events/send" and method == "POST":
        ids = data.get("event_ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise SimError(400, "event_ids must be a list of event ids.", param="event_ids")
        with state.lock:
            events = [state.snapshot(state.event(i)) for i in ids]
        return 200, {"data": sim.deliverer.deliver_all(events, mode="ordered")}
    if (hit := m(rf"/_sim/events/{_ID}/resend", path)) and method == "POST":
        event = state.snapshot(state.event(hit[1]))
        return 200, sim.deliverer.deliver(event, mode="resend")
    if (hit := m(rf"/_sim/events/{_ID}/deliver_concurrently", path)) and method == "POST":
        n = _int(data, "n", 2)
        if not 1 <= n <= 50:
            raise SimError(400, "n must be between 1 and 50.", param="n")
        event = state.snapshot(state.event(hit[1]))
        return 200, {"data": sim.deliverer.deliver_concurrently(event, n)}
    if path == "/_sim/drain" and method == "POST":
        timeout = data.get("timeout", 10)
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0 < timeout <= 60:
            raise SimError(400, "timeout must be a number of seconds (0-60].", param="timeout")
        return 200, {"idle": sim.deliverer.wait_idle(float(timeout))}

    raise SimError(404, f"Unknown control: {method} {path}")
