"""The pricing engine (docs/domain.md, "Money rules"). Pure: ints (cents) and Decimals, no ORM.

Per unit, with base price P, platform commission C %, broker share r %, markup m % or F cents:
  G = round(P*C/100)   supplier cost = P - G   S = round(P*r/100)
  M = round(P*m/100) | F   U = P + M   N = G - S   broker earns S + M
Rounding is half up, once per unit (core.money.percent_of); line totals are unit x quantity;
order totals are sums of line totals, so every total reconciles to the cent.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from tradeline.core.errors import ValidationFailed
from tradeline.core.money import percent_of

MAX_LINES = 20
MAX_QUANTITY = 10


@dataclass(frozen=True)
class PricingPolicy:
    platform_commission_percent: Decimal
    revenue_share_percent: Decimal = Decimal(0)
    markup_type: str = "PERCENTAGE"  # or "FIXED"
    markup_percent: Decimal = Decimal(0)
    markup_fixed: int = 0

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.revenue_share_percent <= self.platform_commission_percent <= Decimal(100):
            raise ValueError("need 0 <= revenue share <= platform commission <= 100")
        if self.markup_type not in ("PERCENTAGE", "FIXED"):
            raise ValueError(f"unknown markup type {self.markup_type!r}")
        if not Decimal(0) <= self.markup_percent <= Decimal(100) or self.markup_fixed < 0:
            raise ValueError("markup out of range")


def direct_policy(platform_commission_percent: Decimal) -> PricingPolicy:
    """A sale with no broker: no share, no markup."""
    return PricingPolicy(platform_commission_percent=platform_commission_percent)


@dataclass(frozen=True)
class UnitPrice:
    base_price: int  # P
    platform_gross: int  # G
    supplier_cost: int  # P - G
    revenue_share: int  # S
    markup: int  # M
    customer_price: int  # U
    platform_net: int  # N

    @property
    def broker_earnings(self) -> int:
        return self.revenue_share + self.markup


def price_unit(base_price: int, policy: PricingPolicy) -> UnitPrice:
    if base_price < 0:
        raise ValueError("base price must be non-negative")
    gross = percent_of(base_price, policy.platform_commission_percent)
    share = percent_of(base_price, policy.revenue_share_percent)
    if policy.markup_type == "FIXED":
        markup = policy.markup_fixed
    else:
        markup = percent_of(base_price, policy.markup_percent)
    return UnitPrice(
        base_price=base_price,
        platform_gross=gross,
        supplier_cost=base_price - gross,
        revenue_share=share,
        markup=markup,
        customer_price=base_price + markup,
        platform_net=gross - share,
    )


@dataclass(frozen=True)
class CatalogEntry:
    card_id: str
    bank_name: str
    price: int  # P, cents
    stock: int
    credit_limit: int = 0  # cents
    date_opened: str = ""
    reporting_period: str = ""
    purchase_deadline: str = ""


@dataclass(frozen=True)
class QuoteLine:
    entry: CatalogEntry
    quantity: int
    unit: UnitPrice

    @property
    def total_base(self) -> int:
        return self.unit.base_price * self.quantity

    @property
    def total_platform_gross(self) -> int:
        return self.unit.platform_gross * self.quantity

    @property
    def total_revenue_share(self) -> int:
        return self.unit.revenue_share * self.quantity

    @property
    def total_markup(self) -> int:
        return self.unit.markup * self.quantity

    @property
    def total_customer_price(self) -> int:
        return self.unit.customer_price * self.quantity


@dataclass(frozen=True)
class OrderQuote:
    lines: tuple[QuoteLine, ...]
    subtotal_base: int = field(init=False)
    platform_gross: int = field(init=False)
    broker_revenue_share: int = field(init=False)
    broker_markup: int = field(init=False)
    total_charged: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "subtotal_base", sum(line.total_base for line in self.lines))
        object.__setattr__(self, "platform_gross", sum(line.total_platform_gross for line in self.lines))
        object.__setattr__(self, "broker_revenue_share", sum(line.total_revenue_share for line in self.lines))
        object.__setattr__(self, "broker_markup", sum(line.total_markup for line in self.lines))
        object.__setattr__(self, "total_charged", sum(line.total_customer_price for line in self.lines))

    @property
    def supplier_cost(self) -> int:
        return self.subtotal_base - self.platform_gross

    @property
    def platform_net_revenue(self) -> int:
        return self.platform_gross - self.broker_revenue_share

    @property
    def broker_earnings(self) -> int:
        return self.broker_revenue_share + self.broker_markup


def merge_cart(items: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Validate the cart's shape and merge duplicate card ids (first-seen order kept)."""
    merged: dict[str, int] = {}
    for index, (card_id, quantity) in enumerate(items):
        card_id = str(card_id).strip()
        if not card_id:
            raise ValidationFailed("Every item needs a card_id.", code="CART_ITEM_INVALID",
                                   details=[{"field": f"items.{index}.card_id", "message": "required"}])
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            raise ValidationFailed(
                f"Quantity must be a whole number from 1 to {MAX_QUANTITY}.", code="CART_QUANTITY_INVALID",
                details=[{"field": f"items.{index}.quantity", "message": f"1..{MAX_QUANTITY}"}],
            )
        merged[card_id] = merged.get(card_id, 0) + quantity
    if not merged:
        raise ValidationFailed("The cart is empty.", code="CART_EMPTY")
    if len(merged) > MAX_LINES:
        raise ValidationFailed(f"A cart holds at most {MAX_LINES} different tradelines.", code="CART_TOO_LARGE")
    for card_id, quantity in merged.items():
        if quantity > MAX_QUANTITY:
            raise ValidationFailed(
                f"At most {MAX_QUANTITY} of one tradeline per order ({card_id}).", code="CART_QUANTITY_INVALID",
                details=[{"card_id": card_id, "quantity": quantity}],
            )
    return merged


def quote_order(
    items: Iterable[tuple[str, int]], catalog: Mapping[str, CatalogEntry], policy: PricingPolicy
) -> OrderQuote:
    """Price a cart against a catalog snapshot. Raises ValidationFailed for any cart rule."""
    merged = merge_cart(items)
    unknown = [card_id for card_id in merged if card_id not in catalog]
    if unknown:
        raise ValidationFailed("Some tradelines are not in the catalog.", code="CARD_NOT_FOUND",
                               details={"card_ids": unknown})
    short = [
        {"card_id": card_id, "requested": quantity, "available": catalog[card_id].stock}
        for card_id, quantity in merged.items()
        if catalog[card_id].stock < quantity
    ]
    if short:
        raise ValidationFailed("Not enough stock for some tradelines.", code="OUT_OF_STOCK", details=short)
    return OrderQuote(
        lines=tuple(
            QuoteLine(entry=catalog[card_id], quantity=quantity, unit=price_unit(catalog[card_id].price, policy))
            for card_id, quantity in merged.items()
        )
    )
