"""Per-process memo of the catalog for the public price list (see selectors.broker_pricing_json).

The public price list is read far more often than the catalog changes. Each process keeps the
catalog state for STATE_MEMO_SECONDS (a sync elsewhere shows within that time; one in this process
at once: catalog.services.catalog_sync calls forget_catalog_memo) and the last rendered bodies,
whose keys change with any catalog or broker change.
"""

import threading
from collections import OrderedDict

STATE_MEMO_SECONDS = 1.0
BODY_MEMO_BYTES = 32 * 1024 * 1024
lock = threading.Lock()
state_memo: dict = {"at": 0.0, "state": None}
_body_memo: OrderedDict[str, bytes] = OrderedDict()
_body_memo_size = [0]


def forget_catalog_memo() -> None:
    with lock:
        state_memo["state"] = None


def body_get(key: str) -> bytes | None:
    with lock:
        body = _body_memo.get(key)
        if body is not None:
            _body_memo.move_to_end(key)
        return body


def body_put(key: str, body: bytes) -> None:
    with lock:
        if key in _body_memo or len(body) > BODY_MEMO_BYTES // 4:
            return
        _body_memo[key] = body
        _body_memo_size[0] += len(body)
        while _body_memo_size[0] > BODY_MEMO_BYTES:
            _, dropped = _body_memo.popitem(last=False)
            _body_memo_size[0] -= len(dropped)
