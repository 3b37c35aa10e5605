"""The local Stripe server's world in SQLite (simstore.DocStore), so a restart continues where it
stopped: sessions (and so `reconcile` still finds old ones), intents, charges, refunds, disputes,
payment links, products, events and idempotency keys. Delivery attempts are not kept.

`sync()` runs before the server answers a request that changed something: it writes the objects
whose JSON changed since the last sync, in one transaction.
"""

import json
import time
from pathlib import Path

from tradeline.devtools.simstore import DocStore

TABLES = ("sessions", "session_items", "session_intent_data", "payment_intents", "charges", "refunds", "disputes",
          "payment_links", "link_items", "products")
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


def _dump(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


class StripeStore:
    def __init__(self, path: str | Path, sim):
        self.store = DocStore(path)
        self.sim = sim
        self._seen: dict[tuple[str, str], str] = {}
        self._events_saved = 0
        self._load()

    def _load(self) -> None:
        state = self.sim.state
        with state.lock:
            for table in TABLES:
                rows = self.store.load(table)
                setattr(state, table, rows)
                self._seen.update({(table, key): _dump(value) for key, value in rows.items()})
            state.events = list(self.store.load("event").values())
            state.events_by_id = {e["id"]: e for e in state.events}
            state.deliveries = {e["id"]: [] for e in state.events}
            self._events_saved = len(state.events)
            now = time.time()
            for key, (saved_at, fingerprint, status, body) in self.store.load("idempotency").items():
                if now - saved_at <= IDEMPOTENCY_TTL_SECONDS:
                    self.sim.idempotency.put(key, fingerprint, status, body, saved_at=saved_at)

    def sync(self) -> None:
        state = self.sim.state
        docs: list[tuple[str, str, object]] = []
        with state.lock:
            for table in TABLES:
                for key, value in getattr(state, table).items():
                    dumped = _dump(value)
                    if self._seen.get((table, key)) != dumped:
                        self._seen[(table, key)] = dumped
                        docs.append((table, key, value))
            docs += [("event", e["id"], e) for e in state.events[self._events_saved:]]
            self._events_saved = len(state.events)
            docs += [("idempotency", key, list(entry)) for key, entry in self.sim.idempotency.unsaved()]
            self.store.put_many(docs)

    def clear(self) -> None:
        with self.sim.state.lock:
            self.store.clear()
            self._seen.clear()
            self._events_saved = 0

    def close(self) -> None:
        self.store.close()
