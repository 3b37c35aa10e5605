"""A deterministic demo catalog, rendered in the messy formats public integrations report."""

import random
from dataclasses import dataclass
from datetime import date, timedelta

BANKS = [
    ("Chase", "chase"), ("Bank of America", "bofa"), ("Citi", "citi"), ("Capital One", "capitalone"),
    ("Wells Fargo", "wellsfargo"), ("Discover", "discover"), ("American Express", "amex"),
    ("U.S. Bank", "usbank"), ("Barclays", "barclays"), ("Synchrony", "synchrony"), ("PNC", "pnc"),
    ("TD Bank", "td"), ("Navy Federal", "navyfederal"), ("USAA", "usaa"), ("Elan Financial", "elan"),
    ("First National Bank of Omaha", "fnbo"), ("Truist", "truist"), ("Fifth Third", "fifththird"),
    ("Huntington", "huntington"), ("Regions", "regions"),
]
CREDIT_LIMITS = [1_500, 2_500, 3_000, 5_000, 7_500, 8_000, 10_000, 12_500, 15_000, 20_000, 25_000, 30_000, 50_000]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
FULL_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"]
BASE_DAY = date(2026, 12, 1)  # deadlines are relative to a fixed day, so a seed always gives the same catalog


@dataclass
class SimTradeline:
    card_id: str
    bank_name: str
    image_slug: str
    credit_limit: int  # dollars
    opened_year: int
    opened_month: int
    deadline: date
    report_day: int
    price_cents: int
    stock: int
    style: int  # which messy format this row is rendered in


def generate(size: int, seed: int) -> list[SimTradeline]:
    rng = random.Random(seed)
    rows = []
    for i in range(size):
        bank, slug = BANKS[rng.randrange(len(BANKS))]
        limit = rng.choice(CREDIT_LIMITS)
        age_years = rng.randint(2, 25)
        # Older and larger lines cost more: roughly $150 .. $2,500, some with odd cents.
        dollars = 100 + age_years * rng.randint(20, 60) + limit // rng.choice([40, 60, 80])
        cents = rng.choice([0, 0, 0, 0, 50, 99])
        rows.append(SimTradeline(
            card_id=str(10001 + i), bank_name=bank, image_slug=slug, credit_limit=limit,
            opened_year=2026 - age_years, opened_month=rng.randint(1, 12),
            deadline=BASE_DAY + timedelta(days=rng.randint(3, 40)), report_day=rng.randint(1, 28),
            price_cents=dollars * 100 + cents, stock=rng.choice([0, 1, 2, 3, 3, 4, 5, 6, 8, 10, 12]),
            style=rng.randrange(6),
        ))
    return rows


def _money(cents: int, style: int):
    dollars, rest = divmod(cents, 100)
    plain = f"{dollars}.{rest:02d}"
    with_sep = f"{dollars:,}.{rest:02d}"
    return [
        dollars if rest == 0 else float(plain),
        plain,
        f"${with_sep}",
        f'<span class="woocommerce-Price-amount amount"><bdi><span class="woocommerce-Price-currencySymbol">'
        f"&#36;</span>{with_sep}</bdi></span>",
        f"USD {with_sep}",
        f"{with_sep} $",
    ][style]


def _limit(dollars: int, style: int):
    if style == 4 and dollars % 1000 == 0:
        return f"${dollars // 1000}K"
    return [dollars, str(dollars), f"${dollars:,}", f"<strong>${dollars:,}</strong>", f"${dollars:,}.00",
            f"{dollars:,}"][style]


def _stock(n: int, style: int):
    if n == 0 and style % 2:
        return "Out of stock"
    return [n, str(n), f"{n} available", f'<span class="stock in-stock">{n} in stock</span>', f"Only {n} left",
            float(n)][style]


def render(t: SimTradeline) -> dict:
    s = t.style
    opened = [f"{t.opened_year}-{t.opened_month:02d}", f"{FULL_MONTHS[t.opened_month - 1]} {t.opened_year}",
              f"{t.opened_month:02d}/{t.opened_year}"][s % 3]
    deadline = [t.deadline.isoformat(), f"{MONTHS[t.deadline.month - 1]} {t.deadline.day}, {t.deadline.year}"][s % 2]
    end = min(t.report_day + 3, 31)
    period = [f"{t.report_day}th - {end}th of the month",
              f"{MONTHS[t.deadline.month - 1]} {t.report_day} - {MONTHS[t.deadline.month - 1]} {end}"][s % 2]
    image = f"https://cdn.tradelinesupply.test/banks/{t.image_slug}.png"
    return {
        "card_id": t.card_id if s != 5 else int(t.card_id),
        "bank_name": t.bank_name if s != 3 else f"<b>{t.bank_name}</b>",
        "credit_limit": _limit(t.credit_limit, s),
        "date_opened": opened,
        "purchase_deadline": deadline,
        "reporting_period": period,
        "stock": _stock(t.stock, s),
        "price": _money(t.price_cents, s),
        "image": image if s != 2 else f'<img src="{image}" alt="{t.bank_name}">',
    }


def bad_rows(count: int, seed: int) -> list[dict]:
    """Rows a defensive parser must skip: no price, no bank, a price range, garbage stock."""
    templates = [
        {"card_id": "90001", "bank_name": "Chase", "credit_limit": "$5,000", "price": "Call for pricing",
         "stock": 2},
        {"card_id": "90002", "bank_name": "", "credit_limit": 1000, "price": 300, "stock": 1},
        {"card_id": "90003", "bank_name": "Citi", "credit_limit": 2000, "price": "$300 - $450", "stock": 1},
        {"card_id": "90004", "bank_name": "Discover", "credit_limit": 2500, "price": 420, "stock": "plenty"},
    ]
    rows = []
    for i in range(count):
        row = dict(templates[i % len(templates)])
        row["card_id"] = str(90001 + i)
        rows.append(row)
    return rows
