"""What a created (or found) supplier order must look like before we call it placed.

A real WooCommerce store answers 201 for an order it cannot fill: an unknown product becomes a
line without a product (product_id 0, total 0.00), stock is not checked, an empty order is fine.
So the answer is read: every line present with our product id and quantity and a positive total,
the order total the sum of its lines (we send no shipping, fees or coupons; tax is added on top),
our order id in `meta_data`. Anything else is a mismatch: a rejection an admin must look at.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from tradeline.catalog.supplier.errors import SupplierOrderMismatch


def _cents(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    cents = number * 100
    return int(cents) if cents == cents.to_integral_value() else None


def _product_key(value: Any) -> str:
    return str(value).strip() if value not in (None, "") else ""


def order_mismatches(order: dict, *, platform_order_id: str, items: list[tuple[str, int]],
                     meta_key: str, expected_total: int | None = None) -> list[str]:
    """The ways `order` differs from what we asked for; [] when it is the order we placed."""
    problems: list[str] = []
    wanted: dict[str, int] = {}
    for card_id, quantity in items:
        wanted[_product_key(card_id)] = wanted.get(_product_key(card_id), 0) + int(quantity)
    got: dict[str, int] = {}
    lines_total = 0
    lines = order.get("line_items")
    if not isinstance(lines, list):
        lines = []
    if not lines:
        problems.append("the order has no lines")
    for line in lines:
        if not isinstance(line, dict):
            problems.append("a line is not an object")
            continue
        product = _product_key(line.get("product_id"))
        quantity = line.get("quantity")
        total = _cents(line.get("total"))
        if product in ("", "0"):
            problems.append(f"line {str(line.get('id'))[:20]} has no product "
                            "(the product does not exist at the supplier)")
            continue
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            problems.append(f"product {product}: quantity {quantity!r} is not a number")
            continue
        got[product] = got.get(product, 0) + quantity
        if total is None or total <= 0:
            problems.append(f"product {product}: line total {line.get('total')!r} is not a positive amount")
        else:
            lines_total += total
    for product in sorted(set(wanted) | set(got)):
        if wanted.get(product, 0) != got.get(product, 0):
            problems.append(f"product {product}: quantity {got.get(product, 0)} at the supplier, "
                            f"{wanted.get(product, 0)} ordered")
    order_total = _cents(order.get("total"))
    extra = sum(_cents(order.get(key)) or 0 for key in ("total_tax", "shipping_total")) - (
        _cents(order.get("discount_total")) or 0)
    if order_total is None:
        problems.append(f"order total {order.get('total')!r} is not an amount")
    elif not problems and order_total != lines_total + extra:
        problems.append(f"order total {order.get('total')} is not the sum of its lines")
    if expected_total is not None and not problems and lines_total != expected_total:
        problems.append(f"lines total {lines_total} cents, {expected_total} expected")
    meta = order.get("meta_data") if isinstance(order.get("meta_data"), list) else []
    ours = [m.get("value") for m in meta if isinstance(m, dict) and m.get("key") == meta_key]
    if str(platform_order_id) not in [str(v) for v in ours]:
        problems.append(f"meta_data {meta_key} is not {platform_order_id}")
    return problems


def check_order(order: dict, *, platform_order_id: str, items: list[tuple[str, int]], meta_key: str,
                expected_total: int | None = None) -> None:
    problems = order_mismatches(order, platform_order_id=platform_order_id, items=items, meta_key=meta_key,
                                expected_total=expected_total)
    if problems:
        supplier_id = str(order.get("id") or "?")
        raise SupplierOrderMismatch(
            f"Supplier order {supplier_id} does not match what we ordered: {'; '.join(problems)}.",
            supplier_code="order_mismatch", details={"supplier_order_id": supplier_id, "problems": problems})
