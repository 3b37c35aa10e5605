"""CORS for browser calls to the API with a broker's publishable key.

- Preflight (`OPTIONS` under /api/ with `Origin` and `Access-Control-Request-Method`): answered here
  with the allowed methods and headers (x-api-key, content-type). The preflight carries no key, so it
  cannot be judged per broker; the real request is.
- Real request with a publishable key: `BrokerKeyAuth` checks the `Origin` against the broker's
  `allowed_origins` (or its website's origin, or our own PUBLIC_BASE_URL) and refuses others with
  403 CORS_ORIGIN_NOT_ALLOWED; an allowed origin is remembered on the request and echoed here in
  `Access-Control-Allow-Origin`. Other requests get no CORS headers, so browsers cannot read them.

The same middleware keeps the API's error format at the edge: an error response under /api/ that
is not JSON (405 from the router, an HTML 400/403/500 from Django itself) is rewritten as
`{"error", "code", "details"}` with its status and headers kept.
"""

import json
from http import HTTPStatus

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND",
          405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE",
          422: "VALIDATION_ERROR", 429: "RATE_LIMITED", 500: "INTERNAL_ERROR", 502: "UPSTREAM_ERROR",
          503: "SERVICE_UNAVAILABLE"}

ALLOWED_METHODS = "GET, POST, PATCH, DELETE, OPTIONS"
ALLOWED_HEADERS = "x-api-key, content-type"
EXPOSED_HEADERS = "Retry-After, X-Request-ID"
PREFLIGHT_MAX_AGE = "600"


def normalize_origin(value: str) -> str | None:
    """`https://Shop.Example.com:443/path` -> `https://shop.example.com`; None if not an http(s) origin."""
    if not isinstance(value, str) or not value or len(value) > 300:
        return None
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default_port = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default_port else "")


def origin_allowed(broker, origin: str) -> bool:
    """Whether a browser on `origin` may use this broker's publishable key."""
    wanted = normalize_origin(origin)
    if wanted is None:  # "null" (sandboxed frames, file://) and garbage are never allowed
        return False
    allowed = {normalize_origin(item) for item in (broker.allowed_origins or []) if isinstance(item, str)}
    if broker.website:
        allowed.add(normalize_origin(broker.website))
    allowed.add(normalize_origin(settings.PUBLIC_BASE_URL))  # our own pages (widget previews, demo)
    return wanted in allowed


def _as_json_error(response: HttpResponse) -> HttpResponse:
    if response.status_code < 400 or getattr(response, "streaming", False):
        return response
    if response.get("Content-Type", "").startswith("application/json"):
        return response
    status = response.status_code
    try:
        message = HTTPStatus(status).phrase
    except ValueError:
        message = "Error"
    if status >= 500:
        message = "An unexpected error occurred." if status == 500 else message
    body = {"error": message + ("." if not message.endswith(".") else ""), "code": _CODES.get(status, "ERROR"),
            "details": None}
    replacement = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    for header, value in response.items():
        if header.lower() not in ("content-type", "content-length"):
            replacement[header] = value
    return replacement


def _preflight(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Origin"] = request.headers["Origin"]
    response["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    response["Vary"] = "Origin"
    return response


class CorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        is_api = request.path.startswith("/api/")
        origin = request.headers.get("Origin") if is_api else None
        if (
            origin
            and request.method == "OPTIONS"
            and request.headers.get("Access-Control-Request-Method")
            and normalize_origin(origin) is not None
        ):
            return _preflight(request)
        response = self.get_response(request)
        if is_api:
            response = _as_json_error(response)
            allowed = getattr(request, "cors_allowed_origin", None)
            if origin and allowed and allowed == origin:
                response["Access-Control-Allow-Origin"] = origin
                response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            vary = response.get("Vary")
            if not vary:
                response["Vary"] = "Origin"
            elif "origin" not in vary.lower():
                response["Vary"] = f"{vary}, Origin"
        return response
