"""Encryption of brokers' taxpayer identification numbers (TINs) at rest.

MultiFernet over TAX_ID_ENCRYPTION_KEYS (newest first): the first key encrypts, every key decrypts,
and `reencrypt` moves a token to the newest key (the key rotation). The plain TIN exists only in
the request that saves it and in the operator's tax export; it is never logged, never put in an
exception message and never kept in clear beside its last four digits.
"""

import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from tradeline.core.errors import ApplicationError, ValidationFailed


class TaxNotConfigured(ApplicationError):
    status = 503
    code = "TAX_NOT_CONFIGURED"


def _fernet() -> MultiFernet:
    keys = settings.TAX_ID_ENCRYPTION_KEYS
    if isinstance(keys, str):
        keys = [k.strip() for k in keys.split(",") if k.strip()]
    if not keys:
        raise TaxNotConfigured("Tax details cannot be stored: TAX_ID_ENCRYPTION_KEYS is not set.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError):
        raise TaxNotConfigured("TAX_ID_ENCRYPTION_KEYS holds a key that is not a Fernet key.") from None


def configured() -> bool:
    try:
        _fernet()
    except TaxNotConfigured:
        return False
    return True


def tin_normalize(*, tin_type: str, value: str) -> str:
    """Nine digits; an SSN cannot start with 9 (an ITIN must), nor be 000/666; no all-zero groups."""
    digits = re.sub(r"[\s-]", "", value or "")
    if not re.fullmatch(r"\d{9}", digits):
        raise ValidationFailed("A TIN has nine digits (e.g. 123-45-6789 or 12-3456789).", code="TIN_INVALID",
                               details={"field": "tin"})
    if tin_type == "SSN" and (digits[0] == "9" or digits[:3] in ("000", "666") or digits[3:5] == "00"
                              or digits[5:] == "0000"):
        raise ValidationFailed("That is not a valid SSN.", code="TIN_INVALID", details={"field": "tin"})
    if tin_type == "ITIN" and digits[0] != "9":
        raise ValidationFailed("An ITIN starts with 9.", code="TIN_INVALID", details={"field": "tin"})
    if tin_type == "EIN" and digits[:2] == "00":
        raise ValidationFailed("That is not a valid EIN.", code="TIN_INVALID", details={"field": "tin"})
    return digits


def encrypt(digits: str) -> str:
    return _fernet().encrypt(digits.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise TaxNotConfigured("A stored TIN cannot be decrypted with TAX_ID_ENCRYPTION_KEYS "
                               "(was a key removed before the rotation finished?).") from None


def reencrypt(token: str) -> str:
    return _fernet().rotate(token.encode()).decode()


def formatted(tin_type: str, digits: str) -> str:
    return f"{digits[:2]}-{digits[2:]}" if tin_type == "EIN" else f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"
