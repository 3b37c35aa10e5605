"""Stripe's OpenAPI schemas for the operations the shop uses (vendored, see the JSON file's `source`).

`operation(method, path)` finds the operation of a request path; `schema(ref)` resolves a `$ref`.
The spec is API 2023-08-16, the newest complete one at hand. Request parameters come from the pinned
SDK (2026-10-28, PARAMS_FILE) where it defines them; enum values the pinned version added to response
fields are in PINNED_VERSION_ENUM_VALUES.
"""

import json
import re
from functools import cache
from pathlib import Path

SPEC_FILE = Path(__file__).with_name("stripe_openapi_2023-08-16.json")
# The pinned SDK's request parameters (stripe/params/ TypedDicts as schemas) of the operations that
# take parameters; length limits from the spec. They win over the 2023 request schemas.
PARAMS_FILE = Path(__file__).with_name("stripe_request_params_2026-10-28.json")

# Enum values of response fields that the pinned version added (from the SDK's resource Literals).
PINNED_VERSION_ENUM_VALUES: dict[tuple[str, str], set[str]] = {
    ("dispute", "status"): {"prevented", "appeal_needs_response", "appeal_under_review"},
    ("payment_intent", "capture_method"): {"automatic_async"},
}


@cache
def spec() -> dict:
    return json.loads(SPEC_FILE.read_text())


@cache
def _patterns() -> list[tuple[str, re.Pattern, str]]:
    out = []
    for key in spec()["operations"]:
        method, template = key.split(" ", 1)
        regex = re.sub(r"\{[^}]+\}", r"[^/]+", template)
        out.append((method, re.compile(f"^{regex}$"), key))
    return out


@cache
def pinned_params() -> dict:
    return json.loads(PARAMS_FILE.read_text())["operations"]


def request_schema(key: str) -> dict:
    """The object schema of an operation's parameters (body or query), `additionalProperties: false`."""
    if key in pinned_params():
        return pinned_params()[key]
    op = spec()["operations"][key]
    body = dict(op.get("request_body") or {})
    properties = dict(body.get("properties") or {})
    for parameter in op.get("parameters") or []:
        if parameter["in"] == "query":
            properties[parameter["name"]] = parameter["schema"]
    return {"type": "object", "properties": properties, "required": body.get("required") or [],
            "additionalProperties": False}


def operation_key(method: str, path: str) -> str | None:
    for op_method, pattern, key in _patterns():
        if op_method == method and pattern.match(path):
            return key
    return None


def operation(method: str, path: str) -> dict | None:
    key = operation_key(method, path)
    return spec()["operations"][key] if key else None


def schema(ref_or_node: dict) -> dict:
    """The schema a node refers to (following `$ref` chains), or the node itself."""
    node = ref_or_node
    while isinstance(node, dict) and "$ref" in node:
        node = spec()["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def schema_named(name: str) -> dict:
    return spec()["schemas"][name]
