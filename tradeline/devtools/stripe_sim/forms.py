"""Stripe's request encoding: form fields with bracketed paths (`line_items[0][price_data][unit_amount]=500`).

`parse_params` turns them back into nested dicts and lists, the way Stripe reads them.
"""

from urllib.parse import parse_qsl

from tradeline.devtools.stripe_sim.errors import SimError


def _split_key(key: str) -> list[str]:
    if "[" not in key:
        return [key]
    head, _, rest = key.partition("[")
    if not rest.endswith("]"):
        raise SimError(400, f"Invalid parameter name: {key}", param=key)
    parts = [head] + rest[:-1].split("][")
    if any("[" in p or "]" in p for p in parts) or not head:
        raise SimError(400, f"Invalid parameter name: {key}", param=key)
    return parts


def _listify(node):
    if isinstance(node, dict):
        node = {k: _listify(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            indexes = sorted(node, key=int)
            if [int(i) for i in indexes] != list(range(len(indexes))):
                raise SimError(400, "Array parameters must be sent with consecutive indexes from 0.")
            return [node[i] for i in indexes]
    elif isinstance(node, list):
        return [_listify(v) for v in node]
    return node


def parse_params(encoded: str) -> dict:
    """Nested params from a form-encoded body or query string. `a[]=x&a[]=y` gives a list."""
    root: dict = {}
    for key, value in parse_qsl(encoded, keep_blank_values=True, strict_parsing=False):
        parts = _split_key(key)
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                raise SimError(400, f"Invalid parameter name: {key}", param=key)
            nxt_is_append = not last and parts[i + 1] == ""
            if nxt_is_append:
                if i + 2 != len(parts):
                    raise SimError(400, f"Invalid parameter name: {key}", param=key)
                bucket = node.setdefault(part, [])
                if not isinstance(bucket, list):
                    raise SimError(400, f"Invalid parameter: {key}", param=key)
                bucket.append(value)
                break
            if last:
                if isinstance(node.get(part), (dict, list)):
                    raise SimError(400, f"Invalid parameter: {key}", param=key)
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise SimError(400, f"Invalid parameter: {key}", param=key)
                node = child
    return _listify(root)
