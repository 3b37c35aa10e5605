"""Money helpers. Amounts are integer cents; percentages are Decimals.

`percent_of` is the only place in the code base that rounds money.
"""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal(1)


def percent_of(amount_cents: int, percent: Decimal) -> int:
    """round_half_up(amount × percent / 100), in whole cents."""
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool):
        raise TypeError("amount_cents must be an int")
    if not isinstance(percent, Decimal):
        raise TypeError("percent must be a Decimal")
    return int((Decimal(amount_cents) * percent / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP))


def proportion_of(amount_cents: int, numerator: int, denominator: int) -> int:
    """round_half_up(amount × numerator / denominator): a share of an amount, in cents."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    return int((Decimal(amount_cents) * Decimal(numerator) / Decimal(denominator)).quantize(CENT, rounding=ROUND_HALF_UP))


def clawback_cents(*, earnings: int, amount_refunded: int, total_charged: int, dispute_lost: bool = False) -> int:
    """What a broker gives back of its earnings (share + markup) on one order: everything after a
    lost dispute, else the earnings in proportion to the cumulative refund, half up, once
    (docs/domain.md "Clawbacks"). The one definition: payouts books it, the ledger checks it."""
    if dispute_lost:
        return earnings
    if amount_refunded <= 0 or total_charged <= 0:
        return 0
    return proportion_of(earnings, min(amount_refunded, total_charged), total_charged)


def cents_to_usd(amount_cents: int) -> str:
    """12345 -> "123.45" (for `<name>_usd` fields); negative amounts keep their sign."""
    sign = "-" if amount_cents < 0 else ""
    whole, cents = divmod(abs(int(amount_cents)), 100)
    return f"{sign}{whole}.{cents:02d}"


def format_usd(amount_cents: int) -> str:
    """12345678 -> "$123,456.78" for display."""
    sign = "-" if amount_cents < 0 else ""
    whole, cents = divmod(abs(int(amount_cents)), 100)
    return f"{sign}${whole:,}.{cents:02d}"


def usd_to_cents(text: str) -> int:
    """"1,250.00" -> 125000. Exact decimal parsing; more than two decimals is an error."""
    value = Decimal(str(text).replace(",", "").strip())
    cents = value * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{text!r} has fractions of a cent")
    return int(cents)
