"""Pricing invariants under hypothesis, and every cart rule as a 4xx."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeline.catalog.pricing import (
    MAX_LINES,
    CatalogEntry,
    PricingPolicy,
    direct_policy,
    price_unit,
    quote_order,
)
from tradeline.core.errors import ValidationFailed
from tradeline.core.money import percent_of

# Percentages as brokers and admins can set them: shares 10..25 and markups 0..100 with up to 3 decimals.
shares = st.decimals(min_value=Decimal(10), max_value=Decimal(25), places=2)
markup_percents = st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=3)
prices = st.integers(min_value=0, max_value=10_000_000)  # up to $100,000.00


@st.composite
def policies(draw):
    if draw(st.booleans()):
        return PricingPolicy(platform_commission_percent=Decimal(50), revenue_share_percent=draw(shares),
                             markup_type="PERCENTAGE", markup_percent=draw(markup_percents))
    return PricingPolicy(platform_commission_percent=Decimal(50), revenue_share_percent=draw(shares),
                         markup_type="FIXED", markup_fixed=draw(st.integers(min_value=0, max_value=500_000)))


@st.composite
def carts(draw):
    n = draw(st.integers(min_value=1, max_value=MAX_LINES))
    catalog = {
        f"c{i}": CatalogEntry(card_id=f"c{i}", bank_name="Bank", price=draw(prices), stock=10) for i in range(n)
    }
    items = [(card_id, draw(st.integers(min_value=1, max_value=10))) for card_id in catalog]
    return catalog, items


@settings(max_examples=300, deadline=None)
@given(price=prices, policy=policies())
def test_unit_price_reconciles_to_the_cent(price, policy):
    unit = price_unit(price, policy)
    assert unit.platform_gross == percent_of(price, Decimal(50))
    assert unit.revenue_share == percent_of(price, policy.revenue_share_percent)
    expected_markup = policy.markup_fixed if policy.markup_type == "FIXED" else percent_of(price, policy.markup_percent)
    assert unit.markup == expected_markup
    assert unit.customer_price == price + unit.markup
    assert unit.customer_price == unit.supplier_cost + unit.platform_net + unit.broker_earnings
    assert unit.platform_net + unit.revenue_share == unit.platform_gross
    assert unit.supplier_cost + unit.platform_gross == price
    assert min(unit.supplier_cost, unit.platform_net, unit.revenue_share, unit.markup) >= 0


@settings(max_examples=200, deadline=None)
@given(cart=carts(), policy=policies())
def test_order_totals_reconcile_to_the_cent(cart, policy):
    catalog, items = cart
    quote = quote_order(items, catalog, policy)
    assert quote.total_charged == quote.subtotal_base + quote.broker_markup
    assert quote.platform_net_revenue + quote.broker_revenue_share == quote.platform_gross
    assert quote.total_charged == quote.supplier_cost + quote.platform_net_revenue + quote.broker_earnings
    assert quote.subtotal_base == sum(catalog[c].price * q for c, q in items)
    for line in quote.lines:
        assert line.total_customer_price == line.unit.customer_price * line.quantity
    assert quote.total_charged == sum(line.total_customer_price for line in quote.lines)


@settings(max_examples=100, deadline=None)
@given(cart=carts())
def test_direct_sale_has_no_share_or_markup(cart):
    catalog, items = cart
    quote = quote_order(items, catalog, direct_policy(Decimal(50)))
    assert (quote.broker_revenue_share, quote.broker_markup) == (0, 0)
    assert quote.total_charged == quote.subtotal_base
    assert quote.platform_net_revenue == quote.platform_gross


def test_order_of_blueprint_example_with_quantities():
    policy = PricingPolicy(platform_commission_percent=Decimal(50), revenue_share_percent=Decimal(10),
                           markup_type="PERCENTAGE", markup_percent=Decimal(20))
    catalog = {"a": CatalogEntry("a", "Chase", 100_000, 5), "b": CatalogEntry("b", "Citi", 33_333, 5)}
    quote = quote_order([("a", 2), ("b", 1), ("a", 1)], catalog, policy)
    assert [(line.entry.card_id, line.quantity) for line in quote.lines] == [("a", 3), ("b", 1)]
    # b: G = 16667, S = 3333, M = 6667, U = 40000
    assert (quote.subtotal_base, quote.platform_gross, quote.broker_revenue_share, quote.broker_markup,
            quote.total_charged) == (333_333, 166_667, 33_333, 66_667, 400_000)
    assert (quote.supplier_cost, quote.platform_net_revenue, quote.broker_earnings) == (166_666, 133_334, 100_000)


CATALOG = {f"c{i}": CatalogEntry(f"c{i}", "Bank", 10_000, 3) for i in range(25)}
POLICY = direct_policy(Decimal(50))


@pytest.mark.parametrize(("items", "code"), [
    ([], "CART_EMPTY"),
    ([(f"c{i}", 1) for i in range(21)], "CART_TOO_LARGE"),
    ([("c1", 0)], "CART_QUANTITY_INVALID"),
    ([("c1", 11)], "CART_QUANTITY_INVALID"),
    ([("c1", -1)], "CART_QUANTITY_INVALID"),
    ([("c1", 1.5)], "CART_QUANTITY_INVALID"),
    ([("c1", True)], "CART_QUANTITY_INVALID"),
    ([("c1", 6), ("c1", 5)], "CART_QUANTITY_INVALID"),  # merged: 11 of one tradeline
    ([("  ", 1)], "CART_ITEM_INVALID"),
    ([("nope", 1)], "CARD_NOT_FOUND"),
    ([("c1", 4)], "OUT_OF_STOCK"),
    ([("c1", 2), ("c1", 2)], "OUT_OF_STOCK"),  # merged: 4 of 3 in stock
])
def test_every_cart_rule_is_a_422(items, code):
    with pytest.raises(ValidationFailed) as exc:
        quote_order(items, CATALOG, POLICY)
    assert (exc.value.status, exc.value.code) == (422, code)


def test_cart_of_twenty_lines_and_ten_units_is_allowed():
    catalog = {f"c{i}": CatalogEntry(f"c{i}", "Bank", 10_000, 10) for i in range(20)}
    quote = quote_order([(f"c{i}", 10) for i in range(20)], catalog, POLICY)
    assert quote.total_charged == 20 * 10 * 10_000
