"""CORS for browser calls to the API with a broker's publishable key, on django-cors-headers.

django-cors-headers (`corsheaders.middleware.CorsMiddleware`, configured in settings: `/api/` only,
our methods, headers and max age) writes the headers. Which origin may read a response is decided
per request by `cors_request_allowed`, connected to its `check_request_enabled` signal:

- A preflight (`OPTIONS` with `Access-Control-Request-Method`) carries no key, so it cannot be
  judged per broker: any well-formed http(s) origin gets the allowed methods and headers.
- A real request with a publishable key: `BrokerKeyAuth` checks the `Origin` against the broker's
  `allowed_origins` (or its website's origin, or our own PUBLIC_BASE_URL) and refuses others with
  403 CORS_ORIGIN_NOT_ALLOWED; an allowed origin is remembered on the request
  (`request.cors_allowed_origin`) and only then echoed in `Access-Control-Allow-Origin`. Other
  requests (secret keys, no key, refused origins) get no CORS header, so browsers cannot read them.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest

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


def cors_request_allowed(sender, request: HttpRequest, **kwargs) -> bool:
    """django-cors-headers' per-request hook: may this request's Origin read the API's answer?"""
    if not request.path_info.startswith("/api/"):
        return False
    origin = request.headers.get("Origin")
    if not origin:
        return False
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        return normalize_origin(origin) is not None
    return getattr(request, "cors_allowed_origin", None) == origin
