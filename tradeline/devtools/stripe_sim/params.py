"""Request parameters checked as Stripe checks them, against the operation's schema in spec/.

Form values arrive as strings; a parameter Stripe does not know is refused with
`parameter_unknown`, a value of the wrong type, outside an enum or longer than allowed with a
`parameter_invalid_*` code, a missing required nested one with `parameter_missing`. The error body
is Stripe's: {"error": {"type": "invalid_request_error", "code", "message", "param"}}.
"""

import re

from tradeline.devtools.stripe_sim import spec
from tradeline.devtools.stripe_sim.errors import SimError

_INT = re.compile(r"-?\d{1,19}")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _bad(code: str, message: str, param: str) -> SimError:
    return SimError(400, message, code=code, param=param)


def _one_of(values: list) -> str:
    shown = [str(v) for v in values if v != ""]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + f", or {shown[-1]}"


def _check(value, node: dict, param: str) -> None:
    node = spec.schema(node)
    if "anyOf" in node:
        errors = []
        for option in node["anyOf"]:
            try:
                _check(value, option, param)
                return
            except SimError as exc:
                errors.append(exc)
        # The most specific complaint: a nested one before a type mismatch at this level.
        raise max(errors, key=lambda e: (e.code == "parameter_unknown", len(e.param or "")))
    kind = node.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            raise _bad("parameter_invalid_object", "Invalid object", param)
        properties = node.get("properties") or {}
        extra = node.get("additionalProperties")
        for key, item in value.items():
            child = f"{param}[{key}]"
            if key in properties:
                _check(item, properties[key], child)
            elif isinstance(extra, dict):
                _check(item, extra, child)
            elif properties or extra is False:
                raise _bad("parameter_unknown", f"Received unknown parameter: {child}", child)
        for key in node.get("required") or []:
            if key not in value:
                raise _bad("parameter_missing", f"Missing required param: {param}[{key}].", f"{param}[{key}]")
        return
    if kind == "array":
        if isinstance(value, dict) and not value:
            value = []
        if not isinstance(value, list):
            raise _bad("parameter_invalid_array", "Invalid array", param)
        for n, item in enumerate(value):
            _check(item, node.get("items") or {}, f"{param}[{n}]")
        return
    if isinstance(value, (dict, list)):
        raise _bad("parameter_invalid_string" if kind == "string" else f"parameter_invalid_{kind or 'string'}",
                   f"Invalid {kind or 'string'}: an object was given", param)
    text = str(value)
    if kind == "integer" and not _INT.fullmatch(text.strip()):
        raise _bad("parameter_invalid_integer", f"Invalid integer: {text[:100]}", param)
    if kind == "number" and not _NUMBER.fullmatch(text.strip()):
        raise _bad("parameter_invalid_number", f"Invalid decimal: {text[:100]}", param)
    if kind == "boolean" and text not in ("true", "false"):
        raise _bad("parameter_invalid_boolean", f"Invalid boolean: {text[:100]}", param)
    if "enum" in node and text not in [str(v) for v in node["enum"]]:
        name = param.rsplit("[", 1)[-1].rstrip("]")
        raise _bad("parameter_invalid_string", f"Invalid {name}: must be one of {_one_of(node['enum'])}", param)
    limit = node.get("maxLength")
    if kind == "string" and limit is not None and len(text) > limit:
        raise _bad("parameter_invalid_string",
                   f"Invalid string: {text[:50]}{'...' if len(text) > 50 else ''}; must be at most {limit} characters",
                   param)


def check_request(method: str, path: str, params: dict) -> None:
    """SimError (400) unless `params` are valid for the operation; unknown operations are left to routing."""
    key = spec.operation_key(method, path)
    if key is None:
        return
    schema = spec.request_schema(key)
    properties = schema.get("properties") or {}
    for name, value in params.items():
        if name not in properties:
            raise _bad("parameter_unknown", f"Received unknown parameter: {name}", name)
        _check(value, properties[name], name)
    for name in schema.get("required") or []:
        if name not in params:
            raise _bad("parameter_missing", f"Missing required param: {name}.", name)
