import json
import logging
import time
import uuid
from http import HTTPStatus

from django.http import HttpResponse

logger = logging.getLogger("tradeline.request")


class RequestLogMiddleware:
    """One log line per request: method, path (no query string: it may carry keys), status, time."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex[:16]
        request.request_id = request_id
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        response["X-Request-ID"] = request_id
        logger.info(
            "%s %s %s %sms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={"request_id": request_id, "method": request.method, "path": request.path,
                   "status": response.status_code, "duration_ms": duration_ms},
        )
        return response


_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND",
          405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE",
          422: "VALIDATION_ERROR", 429: "RATE_LIMITED", 500: "INTERNAL_ERROR", 502: "UPSTREAM_ERROR",
          503: "SERVICE_UNAVAILABLE"}


class ApiJsonErrorMiddleware:
    """Keeps the API's error format at the edge: an error response under /api/, or to a page asked
    for as JSON (`?format=json`, e.g. the order-status page), that is not JSON (405 from the router,
    an HTML 400/403/404/500 from Django itself, a plain-text 429) becomes `{"error", "code",
    "details"}` with its status and headers kept."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/") or request.GET.get("format") == "json":
            return _as_json_error(response)
        return response


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
    if status == 500:
        message = "An unexpected error occurred."
    body = {"error": message if message.endswith(".") else message + ".", "code": _CODES.get(status, "ERROR"),
            "details": None}
    replacement = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    for header, value in response.items():
        if header.lower() not in ("content-type", "content-length"):
            replacement[header] = value
    return replacement
