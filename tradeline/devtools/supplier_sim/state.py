"""In-memory state of the supplier simulator. Every access goes through one lock."""

import copy
import threading
import time
from dataclasses import asdict, dataclass, field

from tradeline.devtools.supplier_sim import catalog as demo_catalog, orders as sim_orders

FAULT_STATUSES = (429, 500, 502, 503, 504)


@dataclass
class Faults:
    """What goes wrong with the next requests (all of them when `count` is None)."""

    latency_ms: int = 0  # added before answering
    status: int | None = None  # 429 or 5xx answered instead of the real response
    retry_after: int | None = None  # Retry-After header sent with 429/503
    timeout: bool = False  # hang (no answer) for hang_seconds, past the client's timeout
    lost_response: bool = False  # do the work (e.g. create the order), then hang: the answer never arrives
    malformed: bool = False  # 200 with a truncated JSON body
    hang_seconds: float = 30.0
    count: int | None = None  # how many requests are affected; None = until cleared
    methods: list[str] = field(default_factory=list)  # e.g. ["POST"]; empty = every method
    path_prefix: str = ""  # e.g. "/orders"; relative to /wp-json/wc/v3

    @classmethod
    def from_dict(cls, data: dict) -> "Faults":
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        faults = cls(**data)
        if faults.status is not None and faults.status not in FAULT_STATUSES:
            raise ValueError(f"status must be one of {FAULT_STATUSES}")
        faults.methods = [m.upper() for m in faults.methods]
        return faults

    def matches(self, method: str, path: str) -> bool:
        if self.methods and method not in self.methods:
            return False
        return path.startswith(self.path_prefix)

    @property
    def active(self) -> bool:
        return (self.count is None or self.count > 0) and bool(
            self.latency_ms or self.status or self.timeout or self.lost_response or self.malformed)


class SimState:
    def __init__(self, *, catalog_size: int = 60, seed: int = 1, bad_rows: int = 2):
        self.lock = threading.RLock()
        self.on_change = None  # persistence hook: on_change(order_id | None | "reset"), called under the lock
        self.wake = threading.Event()  # set to release hanging requests (faults cleared, shutdown)
        self.reset(catalog_size=catalog_size, seed=seed, bad_rows=bad_rows)

    def reset(self, *, catalog_size: int | None = None, seed: int | None = None, bad_rows: int | None = None,
              notify: bool = True) -> None:
        with self.lock:
            self.catalog_size = catalog_size if catalog_size is not None else self.catalog_size
            self.seed = seed if seed is not None else self.seed
            self.bad_row_count = bad_rows if bad_rows is not None else self.bad_row_count
            self.tradelines = {t.card_id: t for t in demo_catalog.generate(self.catalog_size, self.seed)}
            self.bad_rows = demo_catalog.bad_rows(self.bad_row_count, self.seed)
            self._orders: dict[int, dict] = {}
            self.order_notes: dict[int, list[dict]] = {}  # lifecycle.py: customer-visible notes
            self.next_order_id = 5001
            self.next_line_id = 1
            self.nonces: dict[tuple[str, str], float] = {}
            self.requests: list[dict] = []
            self.faults = Faults()
            self.wake.set()
            self.wake = threading.Event()
            if notify:
                self.changed("reset")

    def changed(self, order_id=None) -> None:
        with self.lock:
            if self.on_change is not None:
                self.on_change(order_id)

    def restore_orders(self, orders: dict[int, dict], *, next_order_id: int, next_line_id: int) -> None:
        with self.lock:
            self._orders = dict(orders)
            self.next_order_id = max([next_order_id] + [n + 1 for n in orders])
            self.next_line_id = next_line_id

    def raw_order(self, order_id: int) -> dict:
        with self.lock:
            return self._orders[int(order_id)]

    # -- faults ---------------------------------------------------------------------------------

    def set_faults(self, faults: Faults) -> None:
        with self.lock:
            self.wake.set()
            self.wake = threading.Event()
            self.faults = faults

    def clear_faults(self) -> None:
        self.set_faults(Faults())

    def take_fault(self, method: str, path: str) -> tuple[Faults | None, threading.Event]:
        """The fault for this request (its count used up by one), if any."""
        with self.lock:
            faults = self.faults
            if not faults.active or not faults.matches(method, path):
                return None, self.wake
            if faults.count is not None:
                faults.count -= 1
            return copy.copy(faults), self.wake

    # -- auth -----------------------------------------------------------------------------------

    def use_nonce(self, consumer_key: str, nonce: str, timestamp: int, window: int) -> bool:
        """False when the nonce was already used (single use within the timestamp window)."""
        now = time.time()
        with self.lock:
            if len(self.nonces) > 10_000:
                self.nonces = {k: t for k, t in self.nonces.items() if t > now - 2 * window}
            if (consumer_key, nonce) in self.nonces:
                return False
            self.nonces[(consumer_key, nonce)] = now
            return True

    # -- catalog ----------------------------------------------------------------------------------

    def pricing_rows(self) -> list[dict]:
        with self.lock:
            rows = [demo_catalog.render(t) for t in self.tradelines.values()]
            bad = [dict(row) for row in self.bad_rows]
        # Bad rows are spread through the feed, as a real feed would have them.
        for i, row in enumerate(bad):
            rows.insert(min(len(rows), (i + 1) * max(1, len(rows) // (len(bad) + 1))), row)
        return rows

    def set_stock(self, card_id: str, stock: int) -> None:
        with self.lock:
            self.tradelines[str(card_id)].stock = stock
            self.changed()

    def set_price(self, card_id: str, price_cents: int) -> None:
        with self.lock:
            self.tradelines[str(card_id)].price_cents = price_cents
            self.changed()

    def remove_tradeline(self, card_id: str) -> None:
        with self.lock:
            del self.tradelines[str(card_id)]
            self.changed()

    def stock(self, card_id: str) -> int:
        with self.lock:
            return self.tradelines[str(card_id)].stock

    # -- orders -----------------------------------------------------------------------------------

    def create_order(self, payload: dict) -> tuple[int, dict]:
        """(status, body) like WooCommerce's POST /orders (see orders.py): unknown products are kept as
        product-less lines, stock is not checked (set_paid reduces it, possibly below zero), an order
        without lines is created."""
        try:
            lines = sim_orders.parse_lines(payload.get("line_items"))
        except sim_orders.OrderRefused as exc:
            return exc.status, _error(exc.code, exc.message, exc.status, **exc.data)
        billing = payload.get("billing") if isinstance(payload.get("billing"), dict) else {}
        email = str(billing.get("email") or "")
        if email and ("@" not in email or " " in email):
            return 400, _error("rest_invalid_param", "Invalid parameter(s): billing", 400,
                               params={"billing": "Invalid email address."})
        with self.lock:
            order_id = self.next_order_id
            self.next_order_id += 1
            order = sim_orders.build_order(order_id=order_id, line_id_start=self.next_line_id, payload=payload,
                                           lines=lines, tradelines=self.tradelines)
            self.next_line_id += max(1, len(order["line_items"]))
            if payload.get("set_paid") is True:  # payment_complete() reduces stock; nothing checks it
                for line in order["line_items"]:
                    tradeline = self.tradelines.get(str(line["product_id"]))
                    if tradeline is not None:
                        tradeline.stock -= line["quantity"]
            self._orders[order_id] = order
            self.changed(order_id)
            return 201, copy.deepcopy(order)

    def get_order(self, order_id: str) -> dict | None:
        with self.lock:
            order = self._orders.get(int(order_id)) if str(order_id).isdigit() else None
            return copy.deepcopy(order) if order else None

    def set_order_status(self, order_id: int, status: str) -> None:
        with self.lock:
            self._orders[int(order_id)]["status"] = status
            self.changed(int(order_id))

    def orders(self) -> list[dict]:
        with self.lock:
            return [copy.deepcopy(o) for o in self._orders.values()]

    def search_orders(self, search: str, *, ascending: bool = False) -> list[dict]:
        """WooCommerce semantics: the search covers billing fields, never meta_data."""
        needle = search.strip().lower()
        with self.lock:
            found = [o for o in self._orders.values()
                     if not needle or any(needle in str(v).lower() for v in o["billing"].values())]
            found.sort(key=lambda o: o["id"], reverse=not ascending)
            return [copy.deepcopy(o) for o in found]

    def log_request(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.requests.append({"method": method, "path": path, "status": status})
            del self.requests[:-1000]

    def snapshot(self) -> dict:
        with self.lock:
            return {"catalog_size": len(self.tradelines), "bad_rows": len(self.bad_rows), "seed": self.seed,
                    "orders": len(self._orders), "faults": asdict(self.faults)}


def _error(code: str, message: str, status: int, **data) -> dict:
    return {"code": code, "message": message, "data": {"status": status, **data}}
