"""The only code that talks to TradelineSupply (WooCommerce REST API v3).

Auth: HTTP Basic with the consumer key/secret over HTTPS; OAuth 1.0a one-legged HMAC-SHA1 (query
parameters signed, JSON body not signed) over plain HTTP, as WooCommerce requires (a store ignores
Basic over plain HTTP).

A created order is checked before it counts as placed (checks.py): a real store answers 201 for an
order whose product no longer exists, without checking stock, even for an empty order.

Every call has a timeout. GETs are retried with exponential backoff on 429, 5xx, timeouts,
connection errors and malformed JSON (a Retry-After header is honoured, capped). POST /orders is
never retried here: creating a supplier order is not idempotent, so the caller first looks for an
existing order with `find_order_for` before trying again.
"""

import json
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from authlib.oauth1 import SIGNATURE_TYPE_QUERY, ClientAuth
from django.conf import settings

from tradeline.catalog.supplier.checks import check_order
from tradeline.catalog.supplier.errors import (
    SupplierAuthError,
    SupplierError,
    SupplierNotConfigured,
    SupplierNotFound,
    SupplierOrderMismatch,
    SupplierRateLimited,
    SupplierRejected,
    SupplierUnavailable,
)

logger = logging.getLogger(__name__)

META_PLATFORM_ORDER_ID = "platform_order_id"
META_PLATFORM_ORDER_NUMBER = "platform_order_number"
SEARCH_PAGE_SIZE = 50
SEARCH_MAX_PAGES = 20


@dataclass(frozen=True)
class SupplierOrder:
    id: str
    status: str
    platform_order_id: str = ""
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> "SupplierOrder":
        if not isinstance(data, dict) or data.get("id") in (None, ""):
            raise SupplierUnavailable("The supplier answered with an order we cannot read.")
        return cls(id=str(data["id"]), status=str(data.get("status") or ""),
                   platform_order_id=_meta_value(data, META_PLATFORM_ORDER_ID), raw=data)


def _meta_value(order: dict, key: str) -> str:
    for item in order.get("meta_data") or []:
        if isinstance(item, dict) and item.get("key") == key:
            return str(item.get("value") or "")
    return ""


class _OAuth1Query(httpx.Auth):
    """OAuth 1.0a one-legged, signature in the query string (WooCommerce over plain HTTP)."""

    def __init__(self, key: str, secret: str):
        self._key = key
        self._secret = secret

    def auth_flow(self, request: httpx.Request):
        signer = ClientAuth(self._key, self._secret, signature_type=SIGNATURE_TYPE_QUERY)
        # The JSON body is not part of the signature (only form bodies are), so sign without it.
        url, _headers, _body = signer.sign(request.method, str(request.url), {}, None)
        request.url = httpx.URL(url)
        yield request


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _last_page(response: httpx.Response, page: int, data: list) -> bool:
    """Whether `page` of a WooCommerce list is its last: `X-WP-TotalPages` says so (missing or
    unreadable counts as one page), or the page came back empty."""
    try:
        total_pages = int(response.headers.get("X-WP-TotalPages", "1"))
    except ValueError:
        total_pages = 1
    return page >= total_pages or not data


class SupplierClient:
    def __init__(
        self,
        *,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        timeout: float = 10.0,
        max_retries: int = 3,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        verify: bool | str = True,
    ):
        if not base_url or not consumer_key or not consumer_secret:
            raise SupplierNotConfigured(
                "The supplier is not configured (TRADELINE_API_URL, TRADELINE_CONSUMER_KEY, TRADELINE_CONSUMER_SECRET)."
            )
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self._sleep = sleep
        https = self.base_url.startswith("https://")
        auth: httpx.Auth = (httpx.BasicAuth(consumer_key, consumer_secret) if https
                            else _OAuth1Query(consumer_key, consumer_secret))
        self._http = httpx.Client(
            auth=auth,
            # Certificates are checked over HTTPS (`verify`: True or a CA bundle path); plain HTTP needs
            # no TLS context (slow to build).
            verify=(ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify) if https
            else False,
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/json", "User-Agent": "tradeline-marketplace/1.0"},
        )

    @classmethod
    def from_settings(cls) -> "SupplierClient":
        return cls(
            base_url=settings.TRADELINE_API_URL,
            consumer_key=settings.TRADELINE_CONSUMER_KEY,
            consumer_secret=settings.TRADELINE_CONSUMER_SECRET,
            timeout=float(settings.TRADELINE_TIMEOUT_SECONDS),
            max_retries=int(getattr(settings, "TRADELINE_MAX_RETRIES", 3)),
            backoff_seconds=float(getattr(settings, "TRADELINE_RETRY_BACKOFF_SECONDS", 0.5)),
            max_backoff_seconds=float(getattr(settings, "TRADELINE_RETRY_MAX_BACKOFF_SECONDS", 30.0)),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "SupplierClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- public API -------------------------------------------------------------------------

    def get_pricing(self) -> list:
        """The raw /pricing rows (parse them with catalog.supplier.parsing.parse_pricing)."""
        data, _ = self._get("/pricing")
        if not isinstance(data, list):
            raise SupplierUnavailable("The supplier's /pricing answer is not a list.")
        return data

    def create_order(
        self,
        *,
        platform_order_id: str,
        order_number: str,
        customer_email: str,
        first_name: str,
        last_name: str,
        phone: str,
        items: list[tuple[str, int]],
    ) -> SupplierOrder:
        """Place a paid order. Never retried here; on SupplierUnavailable the order may or may
        not exist: call find_order_for before creating again. The answer is checked (check_order):
        an order the supplier created but cannot fill raises SupplierOrderMismatch."""
        if not items or any(int(quantity) < 1 for _, quantity in items):
            raise SupplierOrderMismatch("An order needs at least one line with a positive quantity; nothing was "
                                        "sent to the supplier.", supplier_code="order_mismatch")
        payload = {
            "payment_method": "tradeline_marketplace",
            "payment_method_title": "Tradeline Marketplace (prepaid)",
            "set_paid": True,
            "billing": {"first_name": first_name, "last_name": last_name, "email": customer_email, "phone": phone},
            "line_items": [{"product_id": _product_id(card_id), "quantity": quantity} for card_id, quantity in items],
            "meta_data": [
                {"key": META_PLATFORM_ORDER_ID, "value": str(platform_order_id)},
                {"key": META_PLATFORM_ORDER_NUMBER, "value": order_number},
            ],
        }
        response = self._send("POST", "/orders", json=payload)
        placed = SupplierOrder.from_json(self._decode(response))
        self.check(placed, platform_order_id=platform_order_id, items=items)
        return placed

    @staticmethod
    def check(order: "SupplierOrder", *, platform_order_id: str, items: list[tuple[str, int]],
              expected_total: int | None = None) -> None:
        """SupplierOrderMismatch unless `order` is the one we asked for (see checks.py)."""
        check_order(order.raw, platform_order_id=str(platform_order_id), items=items,
                    meta_key=META_PLATFORM_ORDER_ID, expected_total=expected_total)

    def get_order(self, order_id: str) -> SupplierOrder:
        data, _ = self._get(f"/orders/{quote(str(order_id), safe='')}")
        return SupplierOrder.from_json(data)

    def list_orders(self, *, ids: list[str], modified_after: str | None = None) -> list[SupplierOrder]:
        """Orders by id (WooCommerce `include=`, at most 100 per call), optionally only those changed
        after `modified_after` (ISO 8601, UTC). Every page is read."""
        found, page = [], 1
        while True:
            params = {"include": ",".join(ids), "per_page": 100, "page": page, "orderby": "id", "order": "asc"}
            if modified_after:
                params["modified_after"] = modified_after
            data, response = self._get("/orders", params=params)
            if not isinstance(data, list):
                raise SupplierUnavailable("The supplier's order list answer is not a list.")
            found += [SupplierOrder.from_json(row) for row in data]
            if _last_page(response, page, data):
                return found
            page += 1

    def customer_notes(self, order_id: str) -> list[dict]:
        """The order's notes meant for the customer (`type=customer`), oldest first."""
        data, _ = self._get(f"/orders/{quote(str(order_id), safe='')}/notes", params={"type": "customer"})
        if not isinstance(data, list):
            raise SupplierUnavailable("The supplier's order notes answer is not a list.")
        rows = [row for row in data if isinstance(row, dict) and row.get("customer_note", True)]
        return sorted(rows, key=lambda row: (str(row.get("date_created_gmt") or row.get("date_created") or ""),
                                             row.get("id") if isinstance(row.get("id"), int) else 0))

    def find_order_for(self, *, platform_order_id: str, customer_email: str) -> SupplierOrder | None:
        """Our supplier order, if one exists: WooCommerce search covers billing fields but not
        meta data, so search the customer's email and match meta_data.platform_order_id."""
        wanted = str(platform_order_id)
        page = 1
        while page <= SEARCH_MAX_PAGES:
            data, response = self._get(
                "/orders", params={"search": customer_email, "page": page, "per_page": SEARCH_PAGE_SIZE,
                                   "orderby": "date", "order": "desc"}
            )
            if not isinstance(data, list):
                raise SupplierUnavailable("The supplier's order search answer is not a list.")
            for row in data:
                if isinstance(row, dict) and _meta_value(row, META_PLATFORM_ORDER_ID) == wanted:
                    return SupplierOrder.from_json(row)
            if _last_page(response, page, data):
                return None
            page += 1
        return None

    # -- transport ----------------------------------------------------------------------------

    def _get(self, path: str, params: dict | None = None) -> tuple[Any, httpx.Response]:
        attempt = 0
        while True:
            try:
                response = self._send("GET", path, params=params)
                return self._decode(response), response
            except (SupplierUnavailable, SupplierRateLimited) as exc:
                if attempt >= self.max_retries:
                    raise
                delay = self._delay(attempt, exc)
                logger.warning("supplier GET %s failed (%s), retry %d/%d in %.2fs",
                               path, exc.code, attempt + 1, self.max_retries, delay)
                self._sleep(delay)
                attempt += 1

    def _delay(self, attempt: int, exc: SupplierError) -> float:
        delay = self.backoff_seconds * (2**attempt)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, self.max_backoff_seconds)

    def _send(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            response = self._http.request(method, f"{self.base_url}{path}", **kwargs)
        except httpx.TimeoutException as exc:
            raise SupplierUnavailable(f"The supplier did not answer within {self.timeout:g}s ({method} {path}).") from exc
        except httpx.HTTPError as exc:
            raise SupplierUnavailable(f"Could not reach the supplier ({method} {path}): {type(exc).__name__}.") from exc
        if response.status_code < 400:
            return response
        raise self._error_for(response, method, path)

    @staticmethod
    def _decode(response: httpx.Response) -> Any:
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SupplierUnavailable(
                f"The supplier answered with malformed JSON (HTTP {response.status_code})."
            ) from exc

    @staticmethod
    def _error_for(response: httpx.Response, method: str, path: str) -> SupplierError:
        status = response.status_code
        supplier_code, message = "", ""
        try:
            body = response.json()
            if isinstance(body, dict):
                supplier_code = str(body.get("code") or "")
                message = str(body.get("message") or "")
        except (ValueError, UnicodeDecodeError):
            pass
        detail = f"{method} {path}: HTTP {status}" + (f" {supplier_code}: {message}" if supplier_code or message else "")
        kwargs = {"http_status": status, "supplier_code": supplier_code,
                  "details": {"supplier_status": status, "supplier_code": supplier_code, "supplier_message": message}}
        if status in (401, 403):
            return SupplierAuthError(f"The supplier refused our credentials ({detail}).", **kwargs)
        if status == 429:
            return SupplierRateLimited(f"The supplier is rate limiting us ({detail}).",
                                       retry_after=_retry_after_seconds(response), **kwargs)
        if status >= 500:
            return SupplierUnavailable(f"The supplier is failing ({detail}).", **kwargs)
        if status == 404:
            return SupplierNotFound(f"Not found at the supplier ({detail}).", **kwargs)
        return SupplierRejected(f"The supplier rejected the request ({detail}).", **kwargs)


def _product_id(card_id: str) -> int | str:
    card_id = str(card_id).strip()
    return int(card_id) if card_id.isdigit() else card_id
