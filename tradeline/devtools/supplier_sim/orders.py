"""Orders as WooCommerce REST v3 builds them (documented properties, creation semantics of the store).

What a real store does on POST /orders, and so what this module does:
- a line whose product does not exist is kept, without a product (product_id 0, name as posted,
  total 0.00): no error;
- stock is not checked; `set_paid` reduces it (it may go negative);
- lines with quantity 0 are dropped; an order without lines is created (total 0.00);
- a line with neither product_id, variation_id nor sku is refused
  (`woocommerce_rest_required_product_reference`).
"""

import secrets
from datetime import UTC, datetime

ORDER_VERSION = "8.6.1"
BILLING_FIELDS = ("first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode",
                  "country", "email", "phone")
SHIPPING_FIELDS = ("first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode",
                   "country", "phone")


class OrderRefused(Exception):
    def __init__(self, code: str, message: str, status: int = 400, **data):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data


def usd(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()


def _int(value, default: int = 0) -> int | None:
    if value in (None, ""):
        return default
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.lstrip("-").isdigit() else None


def parse_lines(items) -> list[dict]:
    """The posted line items, validated as WooCommerce validates them: [{product_id, quantity, sku, name}]."""
    if items in (None, ""):
        return []
    if not isinstance(items, list):
        raise OrderRefused("rest_invalid_param", "Invalid parameter(s): line_items", params={
            "line_items": "line_items is not of type array."})
    lines = []
    for item in items:
        if not isinstance(item, dict):
            raise OrderRefused("rest_invalid_param", "Invalid parameter(s): line_items", params={
                "line_items": "line_items[0] is not of type object."})
        product_id = _int(item.get("product_id"))
        variation_id = _int(item.get("variation_id"))
        quantity = _int(item.get("quantity"), 1)
        if product_id is None or variation_id is None or quantity is None:
            raise OrderRefused("rest_invalid_param", "Invalid parameter(s): line_items", params={
                "line_items": "line_items[0][product_id] is not of type integer."})
        sku = str(item.get("sku") or "")
        if not product_id and not variation_id and not sku:
            raise OrderRefused("woocommerce_rest_required_product_reference", "Product ID or SKU is required.")
        if quantity == 0:
            continue  # WooCommerce removes lines with quantity 0
        lines.append({"product_id": product_id, "variation_id": variation_id, "sku": sku, "quantity": quantity,
                      "name": str(item.get("name") or "")})
    return lines


def build_order(*, order_id: int, line_id_start: int, payload: dict, lines: list[dict], tradelines: dict) -> dict:
    """The stored order (WooCommerce's documented shape). `tradelines` (card id -> SimTradeline) is
    only read; the caller reduces stock when the order is paid."""
    now = _now()
    paid = payload.get("set_paid") is True
    billing = payload.get("billing") if isinstance(payload.get("billing"), dict) else {}
    shipping = payload.get("shipping") if isinstance(payload.get("shipping"), dict) else {}
    line_items, total = [], 0
    for n, line in enumerate(lines):
        tradeline = tradelines.get(str(line["product_id"])) if line["product_id"] else None
        if tradeline is None and line["sku"]:
            tradeline = next((t for t in tradelines.values() if f"TL-{t.card_id}" == line["sku"]), None)
        if tradeline is not None:
            amount = tradeline.price_cents * line["quantity"]
            name = f"{tradeline.bank_name} ${tradeline.credit_limit:,}"
            product_id, sku, price = int(tradeline.card_id), f"TL-{tradeline.card_id}", tradeline.price_cents / 100
        else:  # kept without a product, as WooCommerce keeps it
            amount, name, product_id, sku, price = 0, line["name"], 0, "", 0
        total += amount
        line_items.append({
            "id": line_id_start + n, "name": name, "product_id": product_id, "variation_id": 0,
            "quantity": line["quantity"], "tax_class": "", "subtotal": usd(amount), "subtotal_tax": "0.00",
            "total": usd(amount), "total_tax": "0.00", "taxes": [], "meta_data": [], "sku": sku, "price": price,
            "image": {"id": "", "src": ""}, "parent_name": None,
        })
    meta = [{"id": order_id * 10 + n, "key": str(m.get("key")), "value": m.get("value")}
            for n, m in enumerate(payload.get("meta_data") or []) if isinstance(m, dict) and m.get("key")]
    return {
        "id": order_id, "parent_id": 0, "status": "processing" if paid else str(payload.get("status") or "pending"),
        "currency": "USD", "version": ORDER_VERSION, "prices_include_tax": False,
        "date_created": now, "date_modified": now, "discount_total": "0.00", "discount_tax": "0.00",
        "shipping_total": "0.00", "shipping_tax": "0.00", "cart_tax": "0.00", "total": usd(total),
        "total_tax": "0.00", "customer_id": _int(payload.get("customer_id")) or 0,
        "order_key": f"wc_order_{secrets.token_hex(6)[:13]}",
        "billing": {key: str(billing.get(key) or "") for key in BILLING_FIELDS},
        "shipping": {key: str(shipping.get(key) or "") for key in SHIPPING_FIELDS},
        "payment_method": str(payload.get("payment_method") or ""),
        "payment_method_title": str(payload.get("payment_method_title") or ""),
        "transaction_id": str(payload.get("transaction_id") or ""),
        "customer_ip_address": "", "customer_user_agent": "", "created_via": "rest-api",
        "customer_note": str(payload.get("customer_note") or ""), "date_completed": None,
        "date_paid": now if paid else None, "cart_hash": "", "number": str(order_id), "meta_data": meta,
        "line_items": line_items, "tax_lines": [], "shipping_lines": [], "fee_lines": [], "coupon_lines": [],
        "refunds": [], "payment_url": "", "is_editable": not paid, "needs_payment": not paid,
        "needs_processing": True, "date_created_gmt": now, "date_modified_gmt": now, "date_completed_gmt": None,
        "date_paid_gmt": now if paid else None, "currency_symbol": "$",
    }


def with_links(order: dict, api_url: str) -> dict:
    """The order as the API answers it: with `_links` (self, collection)."""
    return {**order, "_links": {"self": [{"href": f"{api_url}/orders/{order['id']}"}],
                                "collection": [{"href": f"{api_url}/orders"}]}}
