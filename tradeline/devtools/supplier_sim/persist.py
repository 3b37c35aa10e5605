"""The supplier simulator's world in SQLite (simstore.DocStore), so a restart continues where it stopped:
orders, the next order id, stock and prices. Written in the same lock as each change."""

from pathlib import Path

from tradeline.devtools.simstore import DocStore
from tradeline.devtools.supplier_sim import catalog as demo_catalog


class SupplierStore:
    def __init__(self, path: str | Path, state):
        self.store = DocStore(path)
        self.state = state
        with state.lock:
            meta = self.store.meta()
            if meta.get("next_order_id"):
                self._restore(meta)
            state.on_change = self.save
            self.save(None)

    def _restore(self, meta: dict) -> None:
        state = self.state
        state.reset(catalog_size=meta.get("catalog_size"), seed=meta.get("seed"), bad_rows=meta.get("bad_rows"),
                    notify=False)
        generated = {t.card_id: t for t in demo_catalog.generate(state.catalog_size, state.seed)}
        state.tradelines = {}
        for card_id, (stock, price_cents) in (meta.get("catalog") or {}).items():
            tradeline = generated.get(card_id)
            if tradeline is not None:
                tradeline.stock, tradeline.price_cents = int(stock), int(price_cents)
                state.tradelines[card_id] = tradeline
        state.restore_orders({int(k): v for k, v in self.store.load("order").items()},
                             next_order_id=int(meta["next_order_id"]), next_line_id=int(meta.get("next_line_id") or 1))

    def save(self, order_id: int | None) -> None:
        """Called by the state, under its lock, after a change (order_id: the order that changed)."""
        state = self.state
        if order_id == "reset":
            self.store.clear()
            order_id = None
        docs = []
        if order_id is not None:
            docs.append(("order", str(order_id), state.raw_order(order_id)))
        meta = {"next_order_id": state.next_order_id, "next_line_id": state.next_line_id,
                "catalog_size": state.catalog_size, "seed": state.seed, "bad_rows": state.bad_row_count,
                "catalog": {t.card_id: [t.stock, t.price_cents] for t in state.tradelines.values()}}
        self.store.put_many(docs, meta=meta)

    def close(self) -> None:
        self.state.on_change = None
        self.store.close()
