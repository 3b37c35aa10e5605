"""Defensive parsing of TradelineSupply /pricing rows.

Numbers arrive as numbers or as strings with HTML, currency signs, thousands separators and words
(`<span class="amount">$1,250.00</span>`, `"3 available"`, `"$10K"`). A row that cannot be read is
skipped and counted (one warning per parse, without the row's content), never a crash.
"""

import html
import logging
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

logger = logging.getLogger(__name__)

_TAG = re.compile(r"<[^>]*>")
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?")
_DIGIT = re.compile(r"\d")
_IMG_SRC = re.compile(r"""src\s*=\s*["']([^"']+)["']""")
_PLAIN = re.compile(r"\d{1,15}(?:\.\d{1,15})?")
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?|[-+]?\.\d+")
_OUT_OF_STOCK = re.compile(r"\b(out\s+of\s+stock|sold\s*out|unavailable|none)\b", re.IGNORECASE)
_SUFFIX = {"k": Decimal(1_000), "m": Decimal(1_000_000)}
MAX_CENTS = 10**13  # $100 billion: anything above is garbage, not a price
MAX_STOCK = 1_000_000


class Unparseable(ValueError):
    pass


def clean_text(value: Any) -> str:
    """Plain text: HTML tags removed, entities decoded, whitespace collapsed."""
    if value is None:
        return ""
    text = str(value)
    if "<" in text or "&" in text:
        text = html.unescape(_TAG.sub(" ", text))
    return " ".join(text.split())


def parse_decimal(value: Any) -> Decimal:
    """A non-negative decimal from a number or a messy string ("$1,250.00", "USD 99", "10K")."""
    if isinstance(value, bool):
        raise Unparseable("boolean")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise Unparseable("not finite")
        number = Decimal(repr(value))
    elif not isinstance(value, str):
        raise Unparseable("not a number or text")
    elif _PLAIN.fullmatch(value):  # the common case, "1250.00"
        number = Decimal(value)
    else:
        text = clean_text(value)
        match = _NUMBER.search(text)
        if not match:
            raise Unparseable("no number")
        raw = match.group(0)
        if text[: match.start()].rstrip(" $€£").upper().removesuffix("USD").rstrip().endswith("-"):
            raise Unparseable("negative")
        if "," in raw and not _THOUSANDS.fullmatch(raw):
            raise Unparseable("odd separators")
        try:
            number = Decimal(raw.replace(",", ""))
        except InvalidOperation as exc:
            raise Unparseable("bad number") from exc
        rest = text[match.end():]
        suffix = rest.lstrip()[:2].lower()
        if suffix[:1] in _SUFFIX and not suffix[1:2].isalpha():
            number *= _SUFFIX[suffix[:1]]
        if _DIGIT.search(rest):
            raise Unparseable("several numbers")  # "100 - 200", or a sale price beside the old one
    if number < 0:
        raise Unparseable("negative")
    return number


def parse_cents(value: Any) -> int:
    cents = parse_decimal(value) * 100
    if cents != cents.to_integral_value():
        raise Unparseable("fractions of a cent")
    if cents > MAX_CENTS:
        raise Unparseable("too large")
    return int(cents)


def parse_stock(value: Any) -> int:
    """"3 available" -> 3, "In stock: 12" -> 12, "Out of stock" -> 0, 4.0 -> 4."""
    if isinstance(value, str) and _OUT_OF_STOCK.search(clean_text(value)) and not _DIGIT.search(value):
        return 0
    number = parse_decimal(value)
    if number != number.to_integral_value() or number > MAX_STOCK:
        raise Unparseable("not a whole count")
    return int(number)


def parse_image(value: Any) -> str:
    text = clean_text(value)
    match = _IMG_SRC.search(str(value or "")) if value and "<" in str(value) else None
    if match:
        text = html.unescape(match.group(1)).strip()
    if text.startswith(("https://", "http://")) and len(text) <= 500 and " " not in text:
        return text
    return ""


@dataclass(frozen=True)
class ParsedRow:
    card_id: str
    bank_name: str
    credit_limit: int
    date_opened: str
    purchase_deadline: str
    reporting_period: str
    stock: int
    price: int
    image: str


@dataclass
class ParseResult:
    rows: list[ParsedRow]
    received: int
    skipped: int
    reasons: dict[str, int]


def parse_row(raw: Any) -> ParsedRow:
    if not isinstance(raw, dict):
        raise Unparseable("row is not an object")
    card_id = clean_text(raw.get("card_id"))
    if not card_id or len(card_id) > 64:
        raise Unparseable("card_id")
    bank_name = clean_text(raw.get("bank_name"))[:200]
    if not bank_name:
        raise Unparseable("bank_name")
    try:
        price = parse_cents(raw.get("price"))
    except Unparseable as exc:
        raise Unparseable("price") from exc
    try:
        stock = parse_stock(raw.get("stock"))
    except Unparseable as exc:
        raise Unparseable("stock") from exc
    limit_raw = raw.get("credit_limit")
    try:
        credit_limit = 0 if limit_raw in (None, "") else parse_cents(limit_raw)
    except Unparseable as exc:
        raise Unparseable("credit_limit") from exc
    return ParsedRow(
        card_id=card_id,
        bank_name=bank_name,
        credit_limit=credit_limit,
        date_opened=clean_text(raw.get("date_opened"))[:64],
        purchase_deadline=clean_text(raw.get("purchase_deadline"))[:64],
        reporting_period=clean_text(raw.get("reporting_period"))[:64],
        stock=stock,
        price=price,
        image=parse_image(raw.get("image")),
    )


def parse_pricing(rows: list) -> ParseResult:
    """Every readable row (a card id seen twice keeps its first row); one warning for the rest."""
    parsed: list[ParsedRow] = []
    seen: set[str] = set()
    reasons: dict[str, int] = {}
    for raw in rows:
        try:
            row = parse_row(raw)
            if row.card_id in seen:
                raise Unparseable("duplicate card_id")
        except Unparseable as exc:
            reason = str(exc)
            reasons[reason] = reasons.get(reason, 0) + 1
            continue
        seen.add(row.card_id)
        parsed.append(row)
    skipped = len(rows) - len(parsed)
    if skipped:
        summary = ", ".join(f"{reason}: {count}" for reason, count in sorted(reasons.items()))
        logger.warning("supplier pricing: skipped %d of %d rows that could not be read (%s)",
                       skipped, len(rows), summary)
    return ParseResult(rows=parsed, received=len(rows), skipped=skipped, reasons=reasons)
