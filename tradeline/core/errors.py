"""One error type for every expected failure, rendered as {"error", "code", "details"}."""

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    status = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None, details: Any = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details


class ValidationFailed(ApplicationError):
    status = 422
    code = "VALIDATION_ERROR"


class NotAuthenticated(ApplicationError):
    status = 401
    code = "UNAUTHENTICATED"


class PermissionDenied(ApplicationError):
    status = 403
    code = "FORBIDDEN"


class NotFound(ApplicationError):
    status = 404
    code = "NOT_FOUND"


class Conflict(ApplicationError):
    status = 409
    code = "CONFLICT"


class RateLimited(ApplicationError):
    status = 429
    code = "RATE_LIMITED"

    def __init__(self, message: str = "Too many requests", *, retry_after: int = 60, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class UpstreamError(ApplicationError):
    """A payment or supplier service failed; nothing was charged or left half-done."""

    status = 502
    code = "UPSTREAM_ERROR"


def error_body(message: str, code: str, details: Any = None) -> dict:
    return {"error": message, "code": code, "details": details}


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ApplicationError)
    def application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
        response = api.create_response(request, error_body(exc.message, exc.code, exc.details), status=exc.status)
        if isinstance(exc, RateLimited):
            response["Retry-After"] = str(exc.retry_after)
        return response

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        details = [
            {
                "field": ".".join(str(part) for part in err.get("loc", ()) if part not in ("body", "payload")),
                "message": err.get("msg", "invalid"),
                "type": err.get("type", "invalid"),
            }
            for err in exc.errors
        ]
        return api.create_response(
            request, error_body("The request is invalid.", "VALIDATION_ERROR", details), status=422
        )

    @api.exception_handler(AuthenticationError)
    def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return api.create_response(
            request, error_body("Missing or invalid credentials.", "UNAUTHENTICATED"), status=401
        )

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, error_body("Not found.", "NOT_FOUND"), status=404)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND",
                405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE"}.get(exc.status_code, "ERROR")
        return api.create_response(request, error_body(str(exc), code), status=exc.status_code)

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return api.create_response(
            request, error_body("The request body is too large.", "PAYLOAD_TOO_LARGE"), status=413
        )

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Transient infrastructure failures surface as 503 so callers (and Stripe) retry.
        from django.db import DatabaseError

        if isinstance(exc, DatabaseError):
            logger.warning("database error on %s %s: %s", request.method, request.path, type(exc).__name__)
            return api.create_response(
                request, error_body("The service is temporarily unavailable.", "SERVICE_UNAVAILABLE"), status=503
            )
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return api.create_response(
            request, error_body("An unexpected error occurred.", "INTERNAL_ERROR"), status=500
        )
