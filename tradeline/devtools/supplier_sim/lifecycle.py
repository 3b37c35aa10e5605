"""What happens to a supplier order after it is placed, in the simulator: the stages a tradeline
goes through, each with a customer-visible order note, on a clock or by a test control.

  processing (placed) -> au-added (authorized user added) -> posted (reporting) -> completed
  and, from any open stage, a supplier-side cancelled / refunded / failed.

The clock: with `stage_seconds` set, an order whose last change is older than that moves to its
next stage on each tick (the server ticks once a second; the demo uses a few seconds, a real
supplier takes weeks). Tests move orders with POST /_sim/orders/<id>/status {"status", "note"}.
"""

import copy
from datetime import UTC, datetime

PROGRESSION = ("processing", "au-added", "posted", "completed")
ENDINGS = ("cancelled", "refunded", "failed")
NOTES = {
    "au-added": "You have been added as an authorized user on the card.",
    "posted": "The card has reported to the credit bureaus with you as an authorized user.",
    "completed": "The reporting period is over; the order is complete.",
    "cancelled": "The card holder cancelled this order.",
    "refunded": "This order was refunded by the supplier.",
    "failed": "This order could not be placed.",
}


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()


def _touch(order: dict, status: str, stamp: str) -> None:
    order["status"] = status
    order["date_modified"] = order["date_modified_gmt"] = stamp
    if status == "completed":
        order["date_completed"] = order["date_completed_gmt"] = stamp


def set_status(state, order_id: int, status: str, note: str | None = None) -> dict:
    """Move one order to `status` (with its customer note) now; KeyError for an unknown order,
    ValueError for a status the simulator does not know."""
    if status not in PROGRESSION + ENDINGS:
        raise ValueError(f"status must be one of {PROGRESSION + ENDINGS}")
    with state.lock:
        order = state._orders[int(order_id)]
        stamp = _now()
        _touch(order, status, stamp)
        text = NOTES.get(status) if note is None else note
        if text:
            notes = state.order_notes.setdefault(int(order_id), [])
            notes.append({"id": int(order_id) * 1000 + len(notes) + 1, "author": "Supplier", "date_created": stamp,
                          "date_created_gmt": stamp, "note": text, "customer_note": True})
        result = copy.deepcopy(order)
    state.changed(int(order_id))  # persisted when the simulator keeps its state in a file
    return result


def tick(state, *, stage_seconds: float, now: datetime | None = None) -> int:
    """Move every open order whose last change is `stage_seconds` old to its next stage."""
    now = now or datetime.now(UTC)
    due = []
    with state.lock:
        for order_id, order in state._orders.items():
            if order["status"] not in PROGRESSION[:-1]:
                continue
            changed = datetime.fromisoformat(order.get("date_modified_gmt") or order["date_modified"]).replace(tzinfo=UTC)
            if (now - changed).total_seconds() >= stage_seconds:
                due.append((order_id, PROGRESSION[PROGRESSION.index(order["status"]) + 1]))
    for order_id, status in due:
        set_status(state, order_id, status)
    return len(due)


def notes_of(state, order_id: str, note_type: str = "any") -> list[dict] | None:
    """GET /orders/<id>/notes (newest first, like WooCommerce); None for an unknown order."""
    with state.lock:
        if not str(order_id).isdigit() or int(order_id) not in state._orders:
            return None
        rows = [n for n in state.order_notes.get(int(order_id), [])
                if note_type == "any" or (note_type == "customer") == n["customer_note"]]
        return copy.deepcopy(rows[::-1])


def filter_orders(rows: list[dict], query: dict) -> list[dict]:
    """`include=` (comma-separated ids) and `modified_after=` (ISO 8601, GMT) of GET /orders."""
    include = {part.strip() for part in str(query.get("include") or "").split(",") if part.strip()}
    if include:
        rows = [o for o in rows if str(o["id"]) in include]
    after = query.get("modified_after")
    if after:
        cutoff = datetime.fromisoformat(str(after).replace("Z", "")).replace(tzinfo=None)
        rows = [o for o in rows if datetime.fromisoformat(o.get("date_modified_gmt") or o["date_modified"]) > cutoff]
    return rows
