"""In-memory state of the supplier simulator. Every access goes through one lock."""

import copy
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from tradeline.devtools.supplier_sim import catalog as demo_catalog

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
        self.wake = threading.Event()  # set to release hanging requests (faults cleared, shutdown)
        self.reset(catalog_size=catalog_size, seed=seed, bad_rows=bad_rows)

    def reset(self, *, catalog_size: int | None = None, seed: int | None = None, bad_rows: int | None = None) -> None:
        with self.lock:
            self.catalog_size = catalog_size if catalog_size is not None else self.catalog_size
            self.seed = seed if seed is not None else self.seed
            self.bad_row_count = bad_rows if bad_rows is not None else self.bad_row_count
            self.tradelines = {t.card_id: t for t in demo_catalog.generate(self.catalog_size, self.seed)}
            self.bad_rows = demo_catalog.bad_rows(self.bad_row_count, self.seed)
            self._orders: dict[int, dict] = {}
            self.order_notes: dict[int, list[dict]] = {}  # lifecycle.py: customer-visible notes
            self.next_order_id = 5001
            self.nonces: dict[tuple[str, str], float] = {}
            self.requests: list[dict] = []
            self.faults = Faults()
            self.wake.set()
            self.wake = threading.Event()

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

    def set_price(self, card_id: str, price_cents: int) -> None:
        with self.lock:
            self.tradelines[str(card_id)].price_cents = price_cents

    def remove_tradeline(self, card_id: str) -> None:
        with self.lock:
            del self.tradelines[str(card_id)]

    def stock(self, card_id: str) -> int:
        with self.lock:
            return self.tradelines[str(card_id)].stock

    # -- orders -----------------------------------------------------------------------------------

    def create_order(self, payload: dict) -> tuple[int, dict]:
        """(status, body) like WooCommerce's POST /orders, with stock going down."""
        billing = payload.get("billing") if isinstance(payload.get("billing"), dict) else {}
        items = payload.get("line_items")
        if not isinstance(items, list) or not items:
            return 400, _error("woocommerce_rest_required_line_items", "An order needs line_items.", 400)
        email = str(billing.get("email") or "")
        if email and ("@" not in email or " " in email):
            return 400, _error("rest_invalid_param", "Invalid parameter(s): billing", 400,
                               params={"billing": "Invalid email address."})
        wanted: dict[str, int] = {}
        for item in items:
            if not isinstance(item, dict):
                return 400, _error("rest_invalid_param", "Invalid parameter(s): line_items", 400)
            product_id = str(item.get("product_id", "")).strip()
            quantity = item.get("quantity")
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
                return 400, _error("woocommerce_rest_invalid_quantity", "Quantity must be a positive integer.", 400)
            wanted[product_id] = wanted.get(product_id, 0) + quantity
        with self.lock:
            for product_id, quantity in wanted.items():
                tradeline = self.tradelines.get(product_id)
                if tradeline is None:
                    return 400, _error("woocommerce_rest_invalid_product_id",
                                       f"Product ID #{product_id} is invalid.", 400)
                if tradeline.stock < quantity:
                    return 400, _error("woocommerce_rest_product_out_of_stock",
                                       f"Not enough stock for product #{product_id} ({tradeline.stock} left).", 400)
            now = datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()
            order_id = self.next_order_id
            self.next_order_id += 1
            line_items, total = [], 0
            for n, (product_id, quantity) in enumerate(wanted.items()):
                tradeline = self.tradelines[product_id]
                tradeline.stock -= quantity
                total += tradeline.price_cents * quantity
                line_items.append({
                    "id": order_id * 100 + n, "name": f"{tradeline.bank_name} ${tradeline.credit_limit:,}",
                    "product_id": int(product_id) if product_id.isdigit() else product_id, "quantity": quantity,
                    "price": tradeline.price_cents / 100, "subtotal": _usd(tradeline.price_cents * quantity),
                    "total": _usd(tradeline.price_cents * quantity),
                })
            paid = bool(payload.get("set_paid"))
            order = {
                "id": order_id, "number": str(order_id), "status": "processing" if paid else "pending",
                "currency": "USD", "date_created": now, "date_created_gmt": now, "date_modified": now,
                "date_modified_gmt": now,
                "date_paid": now if paid else None, "total": _usd(total),
                "payment_method": str(payload.get("payment_method") or ""),
                "payment_method_title": str(payload.get("payment_method_title") or ""),
                "billing": {key: str(billing.get(key) or "") for key in
                            ("first_name", "last_name", "company", "address_1", "city", "state", "postcode",
                             "country", "email", "phone")},
                "line_items": line_items,
                "meta_data": [
                    {"id": order_id * 10 + n, "key": str(m.get("key")), "value": m.get("value")}
                    for n, m in enumerate(payload.get("meta_data") or []) if isinstance(m, dict)
                ],
            }
            self._orders[order_id] = order
            return 201, copy.deepcopy(order)

    def get_order(self, order_id: str) -> dict | None:
        with self.lock:
            order = self._orders.get(int(order_id)) if str(order_id).isdigit() else None
            return copy.deepcopy(order) if order else None

    def set_order_status(self, order_id: int, status: str) -> None:
        with self.lock:
            self._orders[int(order_id)]["status"] = status

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


def _usd(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _error(code: str, message: str, status: int, **data) -> dict:
    return {"code": code, "message": message, "data": {"status": status, **data}}
