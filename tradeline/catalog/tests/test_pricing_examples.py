from decimal import Decimal

from tradeline.catalog.pricing import PricingPolicy, price_unit


def test_blueprint_worked_example():
    policy = PricingPolicy(platform_commission_percent=Decimal(50), revenue_share_percent=Decimal(10),
                           markup_type="PERCENTAGE", markup_percent=Decimal(20))
    unit = price_unit(100_000, policy)
    assert (unit.platform_gross, unit.supplier_cost, unit.revenue_share, unit.markup) == (50_000, 50_000, 10_000, 20_000)
    assert unit.customer_price == 120_000
    assert unit.platform_net == 40_000
    assert unit.broker_earnings == 30_000


def test_rounding_example_half_up_once_per_unit():
    policy = PricingPolicy(platform_commission_percent=Decimal(50), revenue_share_percent=Decimal("12.5"),
                           markup_type="PERCENTAGE", markup_percent=Decimal("7.5"))
    unit = price_unit(33_333, policy)
    assert unit.revenue_share == 4167
    assert unit.markup == 2500
    assert unit.customer_price == 35_833
    assert unit.platform_gross == 16_667
    assert unit.platform_net == 12_500
    assert unit.customer_price == unit.supplier_cost + unit.platform_net + unit.broker_earnings
