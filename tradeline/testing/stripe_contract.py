"""Contract checks of the local Stripe server, run under every test that uses it.

- every JSON body a /v1 call answers, and every event the server records, is validated against the
  vendored OpenAPI response schemas (devtools/stripe_sim/spec), tolerating what the spec marks
  expandable (an id or the expanded object) and fields newer than the spec;
- every /v1 request is checked against the installed SDK's parameter definitions (stripe/params/
  TypedDicts): a parameter our gateway sends that the pinned SDK does not define is a drift.

    problems = response_problems(schema.schema_named("charge"), charge)   # [] when it conforms
    problems = sdk_request_problems("POST /v1/refunds", {"payment_intent": "pi_1", "amount": "100"})
"""

import sys
import typing

import stripe.params as sdk_params
import stripe.params.checkout as sdk_checkout_params

from tradeline.devtools.stripe_sim import spec

# -- responses --------------------------------------------------------------------------------


def _type_ok(value, kind: str | None) -> bool:
    if kind is None:
        return True
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    return True


def response_problems(node: dict, value, path: str = "$", owner: str = "", field: str = "") -> list[str]:
    """What in `value` breaks the schema `node` ([] when nothing). `owner`/`field` name the object
    and property the value sits in, for the pinned version's extra enum values."""
    node = spec.schema(node)
    if value is None:
        return [] if node.get("nullable") or not node else [f"{path}: null is not allowed"]
    if "anyOf" in node:
        attempts = [response_problems(option, value, path, owner, field) for option in node["anyOf"]]
        if any(not problems for problems in attempts):
            return []
        return min(attempts, key=len)
    kind = node.get("type")
    if not _type_ok(value, kind):
        return [f"{path}: {type(value).__name__} where the spec has {kind}"]
    if "enum" in node:
        allowed = set(node["enum"]) | spec.PINNED_VERSION_ENUM_VALUES.get((owner, field), set())
        if value not in allowed:
            return [f"{path}: {value!r} is not one of {sorted(allowed)}"]
    problems: list[str] = []
    if kind == "object" and isinstance(value, dict):
        properties = node.get("properties") or {}
        this = value.get("object") if isinstance(value.get("object"), str) else owner
        expandable = set(node.get("x-expandableFields") or ())
        for name in node.get("required") or ():
            if name not in value:
                problems.append(f"{path}.{name}: required by the spec, missing")
        for name, item in value.items():
            if name not in properties:
                extra = node.get("additionalProperties")
                if isinstance(extra, dict):
                    problems += response_problems(extra, item, f"{path}.{name}", this, name)
                continue  # a field newer than the spec
            if name in expandable and isinstance(item, dict) and isinstance(item.get("object"), str):
                target = item["object"]
                if target in spec.spec()["schemas"] and target != "list":
                    problems += response_problems(spec.schema_named(target), item, f"{path}.{name}", target, "")
                    continue
            problems += response_problems(properties[name], item, f"{path}.{name}", this, name)
    if kind == "array" and isinstance(value, list):
        for n, item in enumerate(value):
            problems += response_problems(node.get("items") or {}, item, f"{path}[{n}]", owner, field)
    return problems


def operation_response_problems(method: str, path: str, body) -> list[str]:
    op = spec.operation(method, path)
    if op is None:
        return []
    return [f"{method} {path} {p}" for p in response_problems(op["response"], body)]


def event_problems(event: dict) -> list[str]:
    problems = [f"event {event.get('type')} {p}" for p in response_problems(spec.schema_named("event"), event)]
    obj = (event.get("data") or {}).get("object") or {}
    kind = obj.get("object")
    if kind in spec.spec()["schemas"]:
        problems += [f"event {event.get('type')} data.object {p}"
                     for p in response_problems(spec.schema_named(kind), obj, "$", kind)]
    else:
        problems.append(f"event {event.get('type')}: data.object of unknown kind {kind!r}")
    return problems


# -- requests against the SDK's parameter definitions -----------------------------------------

SDK_PARAMS = {
    "POST /v1/checkout/sessions": sdk_checkout_params.SessionCreateParams,
    "GET /v1/checkout/sessions/{session}": sdk_checkout_params.SessionRetrieveParams,
    "POST /v1/checkout/sessions/{session}/expire": sdk_checkout_params.SessionExpireParams,
    "GET /v1/checkout/sessions/{session}/line_items": sdk_checkout_params.SessionListLineItemsParams,
    "POST /v1/payment_links": sdk_params.PaymentLinkCreateParams,
    "POST /v1/refunds": sdk_params.RefundCreateParams,
    "GET /v1/refunds": sdk_params.RefundListParams,
    "GET /v1/refunds/{refund}": sdk_params.RefundRetrieveParams,
    "GET /v1/payment_intents/{intent}": sdk_params.PaymentIntentRetrieveParams,
    "GET /v1/charges/{charge}": sdk_params.ChargeRetrieveParams,
    "GET /v1/disputes/{dispute}": sdk_params.DisputeRetrieveParams,
    "GET /v1/events/{id}": sdk_params.EventRetrieveParams,
    "GET /v1/events": sdk_params.EventListParams,
}


def _is_typeddict(obj) -> bool:
    return isinstance(obj, type) and hasattr(obj, "__required_keys__") and hasattr(obj, "__annotations__")


def _resolve(annotation, module) -> tuple[str, object]:
    """("dict", TypedDict) | ("list", inner) | ("mapping", None) | ("scalar", None)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.NotRequired, typing.Required):
        return _resolve(typing.get_args(annotation)[0], module)
    if origin in (list, typing.List):  # noqa: UP006 - the SDK writes typing.List
        return "list", typing.get_args(annotation)[0]
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        text = annotation.strip()
        found = vars(module).get(text)
        if _is_typeddict(found):
            return "dict", found
        # "Literal['']|SomeParams": an object, or "" to clear it (e.g. custom_text's entries).
        parts = [part.strip() for part in text.split("|")]
        typed = [vars(module).get(part) for part in parts if _is_typeddict(vars(module).get(part))]
        if len(parts) > 1 and typed:
            return ("dict_or_empty" if "Literal['']" in parts else "dict"), typed[0]
        if text.startswith("List[") and text.endswith("]"):
            return "list", text[5:-1]
        if text.startswith(("Dict[", "Mapping[")) or "Dict[" in text.split("|")[0] or "UntypedStripeObject" in text:
            return "mapping", None
        return "scalar", None
    if _is_typeddict(annotation):
        return "dict", annotation
    return "scalar", None


def _walk(value, kind: str, inner, module, path: str) -> list[str]:
    if kind == "dict_or_empty":
        return [] if value == "" else _walk(value, "dict", inner, module, path)
    if kind == "dict":
        if not isinstance(value, dict):
            return [f"{path}: the SDK defines an object here"]
        hints = inner.__annotations__
        problems = [f"{path}[{key}]: not a parameter of the pinned SDK ({inner.__name__})"
                    for key in value if key not in hints]
        problems += [f"{path}[{key}]: required by the pinned SDK, missing" for key in inner.__required_keys__
                     if key not in value]
        for key, item in value.items():
            if key in hints:
                sub_kind, sub_inner = _resolve(hints[key], sys.modules[inner.__module__])
                problems += _walk(item, sub_kind, sub_inner, sys.modules[inner.__module__], f"{path}[{key}]")
        return problems
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: the SDK defines a list here"]
        sub_kind, sub_inner = _resolve(inner, module)
        return [p for n, item in enumerate(value) for p in _walk(item, sub_kind, sub_inner, module, f"{path}[{n}]")]
    if kind == "mapping":
        return [] if isinstance(value, dict) or value == "" else [f"{path}: the SDK defines a mapping here"]
    return [] if not isinstance(value, (dict, list)) else [f"{path}: the SDK defines a single value here"]


def sdk_request_problems(operation_key: str, params: dict) -> list[str]:
    params_class = SDK_PARAMS.get(operation_key)
    if params_class is None:
        return [f"{operation_key}: no SDK parameter definition known for this operation"]
    problems = _walk(params, "dict", params_class, sys.modules[params_class.__module__], "")
    return [f"{operation_key} {p.lstrip('[').replace(']', '', 1) if p.startswith('[') else p}" for p in problems]


class ContractRecorder:
    """Installed as the local server's request/response hooks; `problems` lists every drift."""

    def __init__(self):
        self.problems: list[str] = []

    def on_request(self, method: str, path: str, params: dict) -> None:
        key = spec.operation_key(method, path)
        if key is not None:
            self.problems += sdk_request_problems(key, params)

    def on_response(self, method: str, path: str, body) -> None:
        self.problems += operation_response_problems(method, path, body)

    def check_events(self, events: list[dict]) -> None:
        for event in events:
            self.problems += event_problems(event)
