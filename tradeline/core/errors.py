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
    _install_error_documentation(api)

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
        from django.db import DatabaseError, DataError

        if isinstance(exc, DataError):
            # The input holds a value the database cannot store (PostgreSQL: a NUL character in
            # text, a number out of range). The statement failed and its transaction rolled back:
            # a retry cannot succeed, so this is the caller's 422, not a 503.
            logger.warning("database refused the input on %s %s: %s", request.method, request.path,
                           type(exc).__name__)
            return api.create_response(
                request,
                error_body("The input contains a value that cannot be stored (e.g. a NUL character or a number "
                           "out of range).", "INVALID_INPUT_VALUE"),
                status=422,
            )
        if isinstance(exc, DatabaseError):
            logger.warning("database error on %s %s: %s", request.method, request.path, type(exc).__name__)
            return api.create_response(
                request, error_body("The service is temporarily unavailable.", "SERVICE_UNAVAILABLE"), status=503
            )
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return api.create_response(
            request, error_body("An unexpected error occurred.", "INTERNAL_ERROR"), status=500
        )


# ----------------------------------------------------------------------------- OpenAPI: error responses
#
# The handlers above can answer any operation with some error statuses whatever its own `response=`
# mapping says (credentials, input validation, body size, database outage). The schema documents
# them for every operation they apply to, so clients and schema-driven tests see the real contract.
# 409 (Conflict) is documented for every write: any state change may find the object in a state
# that forbids it. Statuses specific to some endpoints (429, 502) stay in their own mappings.

ERROR_SCHEMA_NAME = "Error"
ERROR_SCHEMA = {
    "title": ERROR_SCHEMA_NAME,
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "What went wrong, for people"},
        "code": {"type": "string", "description": "What went wrong, for programs (UPPER_SNAKE)"},
        "details": {"description": "Per-field problems or other context; null when there is none"},
    },
    "required": ["error", "code", "details"],
}
_ERROR_DESCRIPTIONS = {
    400: "Bad request (e.g. a body that is not valid JSON)",
    401: "Missing or invalid credentials",
    403: "The credentials may not do this",
    404: "No such object (also another broker's object)",
    409: "The current state does not allow this (e.g. the order is no longer PENDING)",
    413: "The request body is too large",
    422: "The input is invalid",
    503: "The service is temporarily unavailable; retry later",
}
_WRITE_METHODS = {"post", "put", "patch", "delete"}


def _common_error_statuses(method: str, operation: dict, authenticated: bool, path: str) -> list[int]:
    statuses = [503]
    if authenticated:
        statuses += [401, 403]
    if "{" in path:
        statuses.append(404)
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.append(422)
    if method in _WRITE_METHODS:
        statuses += [400, 409, 413]
    return sorted(statuses)


def document_error_responses(api: NinjaAPI, schema: dict) -> dict:
    """Add the shared error responses (body: the Error schema) to every operation of `schema`."""
    authenticated: dict[str, bool] = {}
    for router in api._get_bound_routers():
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                operation_id = operation.operation_id or api.get_openapi_operation_id(operation)
                authenticated[operation_id] = bool(operation.auth_callbacks)
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    schema.setdefault("components", {}).setdefault("schemas", {})[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            known = {str(status) for status in responses}
            statuses = _common_error_statuses(method, operation, authenticated.get(operation.get("operationId"), False),
                                              path)
            for status in statuses:
                if str(status) not in known:
                    responses[status] = {"description": _ERROR_DESCRIPTIONS[status],
                                         "content": {"application/json": {"schema": ref}}}
    return schema


def _install_error_documentation(api: NinjaAPI) -> None:
    generate = api.get_openapi_schema

    def get_openapi_schema(*args: Any, **kwargs: Any):
        return document_error_responses(api, generate(*args, **kwargs))

    api.get_openapi_schema = get_openapi_schema  # type: ignore[method-assign]
