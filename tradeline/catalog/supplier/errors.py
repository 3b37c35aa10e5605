"""Typed supplier failures. `retryable` tells callers (fulfillment, catalog sync) whether trying
again later can help: timeouts, outages, malformed answers and rate limits can; bad credentials and
rejected requests cannot."""

from tradeline.core.errors import UpstreamError


class SupplierError(UpstreamError):
    code = "SUPPLIER_ERROR"
    retryable = False

    def __init__(self, message: str, *, http_status: int | None = None, supplier_code: str = "", **kwargs):
        super().__init__(message, **kwargs)
        self.http_status = http_status  # the supplier's HTTP status, when there was an answer
        self.supplier_code = supplier_code  # WooCommerce's error code, e.g. "woocommerce_rest_cannot_view"


class SupplierNotConfigured(SupplierError):
    code = "SUPPLIER_NOT_CONFIGURED"


class SupplierAuthError(SupplierError):
    code = "SUPPLIER_AUTH_FAILED"


class SupplierRateLimited(SupplierError):
    code = "SUPPLIER_RATE_LIMITED"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class SupplierUnavailable(SupplierError):
    """Timeouts, connection errors, 5xx answers and malformed JSON."""

    code = "SUPPLIER_UNAVAILABLE"
    retryable = True


class SupplierRejected(SupplierError):
    """The supplier understood the request and refused it (4xx other than 401/429)."""

    code = "SUPPLIER_REJECTED"


class SupplierNotFound(SupplierRejected):
    code = "SUPPLIER_NOT_FOUND"


class SupplierOrderMismatch(SupplierRejected):
    """The supplier created (or we found) an order that is not the one we asked for: a product it no
    longer has, another quantity, an empty order. Not retryable: an admin must look at it."""
