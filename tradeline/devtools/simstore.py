"""Where the local simulators keep their world between restarts: one SQLite file each (stdlib sqlite3).

    store = DocStore(var_dir / "supplier_sim.sqlite3")
    store.put_many([("order", "5001", {...})], meta={"next_order_id": 5002})
    store.load("order")  # -> {"5001": {...}} in insertion order
    store.meta()         # -> {"next_order_id": 5002}

Documents are JSON bodies keyed by (kind, id); `meta` holds small JSON values. Every write is one
transaction, so a simulator killed between two requests restarts from its last answered change.
Delete the file (or `tradeline run_demo --fresh`) to start over.
"""

import json
import sqlite3
import threading
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS doc (kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class DocStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def load(self, kind: str) -> dict[str, dict]:
        with self._lock:
            rows = self._db.execute("SELECT id, body FROM doc WHERE kind = ? ORDER BY rowid", (kind,)).fetchall()
        return {row_id: json.loads(body) for row_id, body in rows}

    def meta(self) -> dict:
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM meta").fetchall()
        return {key: json.loads(value) for key, value in rows}

    def put_many(self, docs: list[tuple[str, str, dict]], *, meta: dict | None = None) -> None:
        if not docs and not meta:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                # ON CONFLICT keeps the row (and so its rowid: the load order is the creation order).
                self._db.executemany(
                    "INSERT INTO doc (kind, id, body) VALUES (?, ?, ?) "
                    "ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
                    [(kind, str(doc_id), json.dumps(body, separators=(",", ":"))) for kind, doc_id, body in docs])
                self._db.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [(key, json.dumps(value)) for key, value in (meta or {}).items()])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def clear(self) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM doc")
            self._db.execute("DELETE FROM meta")
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()


def remove_store(path: str | Path) -> bool:
    """Delete a store file and its WAL companions; True if there was one."""
    path = Path(path)
    existed = path.exists()
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        candidate.unlink(missing_ok=True)
    return existed


# Where `tradeline run_demo` keeps each simulator's world (under VAR_DIR).
DEMO_STATE_FILES = {"stripe": "stripe_sim.sqlite3", "supplier": "supplier_sim.sqlite3"}


def demo_state_path(var_dir: Path, simulator: str) -> Path:
    return Path(var_dir) / DEMO_STATE_FILES[simulator]


def forget_demo_world(var_dir: Path) -> list[str]:
    """`run_demo --fresh`: delete both simulators' state files; returns the names deleted."""
    return [name for name in DEMO_STATE_FILES.values() if remove_store(Path(var_dir) / name)]
