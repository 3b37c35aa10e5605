"""Shapes of the broker fields a person types in (text lengths, email, URL, origins, numbers).

Each function takes the raw value and returns the clean one or raises ValidationFailed (422) naming
the field. `Broker.clean_values()` maps each field to one of these; business rules (who may change
which field, the share's range, unique emails) stay in the services.
"""

from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email

from tradeline.core.cors import normalize_origin
from tradeline.core.errors import ValidationFailed
from tradeline.core.money import format_usd

MAX_ALLOWED_ORIGINS = 20


def invalid_field(field: str, message: str, code: str = "VALIDATION_ERROR") -> ValidationFailed:
    return ValidationFailed(message, code=code, details=[{"field": field, "message": message, "type": code.lower()}])


def clean_text(field: str, value: Any, *, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise invalid_field(field, f"{field} must be a string.")
    value = value.strip()
    if required and not value:
        raise invalid_field(field, f"{field} is required.")
    if len(value) > max_length:
        raise invalid_field(field, f"{field} is longer than {max_length} characters.")
    return value


def clean_email(value: Any, field: str = "email") -> str:
    email = clean_text(field, value, max_length=254, required=True).lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise invalid_field(field, "Enter a valid email address.", "INVALID_EMAIL") from None
    return email


def clean_website(value: Any) -> str:
    website = clean_text("website", value, max_length=200)
    if website:
        try:
            URLValidator(schemes=["http", "https"])(website)
        except DjangoValidationError:
            raise invalid_field("website", "Enter a full http(s) URL, e.g. https://example.com/.",
                                "INVALID_URL") from None
    return website


def clean_decimal(field: str, value: Any, *, places: int) -> Decimal:
    if isinstance(value, bool):
        raise invalid_field(field, f"{field} must be a number.")
    try:
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError, TypeError):
        raise invalid_field(field, f"{field} must be a number.") from None
    if not number.is_finite():
        raise invalid_field(field, f"{field} must be a number.")
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise invalid_field(field, f"{field} allows at most {places} decimal places.")
    return number


def clean_choice(field: str, value: Any, choices: list[str]) -> str:
    if value not in choices:
        raise invalid_field(field, f"{field} must be {' or '.join(choices)}.")
    return str(value)


def clean_markup_percent(value: Any) -> Decimal:
    percent = clean_decimal("markup_percent", value, places=3)
    if not Decimal(0) <= percent <= Decimal(100):
        raise invalid_field("markup_percent", "markup_percent must be between 0 and 100.", "MARKUP_OUT_OF_RANGE")
    return percent


def clean_markup_fixed(value: Any) -> int:
    """A fixed markup per tradeline: whole cents from 0 to BROKER_MARKUP_FIXED_MAX_CENTS (the one place
    this rule lives; the API, the portal's form and its price preview all come here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_field("markup_fixed", "markup_fixed is a whole number of cents.")
    ceiling = settings.BROKER_MARKUP_FIXED_MAX_CENTS
    if not 0 <= value <= ceiling:
        raise invalid_field("markup_fixed", f"The fixed markup must be between $0.00 and {format_usd(ceiling)} "
                                            "per tradeline.", "MARKUP_OUT_OF_RANGE")
    return value


def clean_origins(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid_field("allowed_origins",
                            "allowed_origins must be a list of origins like https://shop.example.com.")
    if len(value) > MAX_ALLOWED_ORIGINS:
        raise invalid_field("allowed_origins", f"At most {MAX_ALLOWED_ORIGINS} allowed origins.")
    origins: list[str] = []
    for item in value:
        origin = normalize_origin(item) if isinstance(item, str) else None
        if origin is None or _url_path(item) not in ("", "/"):
            raise ValidationFailed(
                "Each allowed origin is scheme://host[:port], e.g. https://shop.example.com.",
                code="INVALID_ORIGIN",
                details=[{"field": "allowed_origins", "message": f"not an origin: {str(item)[:100]}",
                          "type": "invalid_origin"}],
            )
        if origin not in origins:
            origins.append(origin)
    return origins


def _url_path(value: str) -> str:
    """Everything after scheme://host[:port]; an origin has none (a trailing slash is tolerated)."""
    parts = urlsplit(value.strip())
    return parts.path + ("?" + parts.query if parts.query else "") + ("#" + parts.fragment if parts.fragment else "")
