"""Brokers' tax details (legal name, business type, TIN, address) and the TIN key rotation."""

import re

from django.db import transaction

from tradeline.audit.services import activity_log
from tradeline.brokers.models import Broker
from tradeline.core.errors import ValidationFailed
from tradeline.payouts import tax
from tradeline.payouts.models import TaxProfile

US_STATES = set(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
    "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP".split())


def _text(value: str, field: str, *, required: bool = True, max_length: int = 200) -> str:
    value = (value or "").strip()
    if "\x00" in value or len(value) > max_length or (required and not value):
        raise ValidationFailed(f"Enter a valid {field.replace('_', ' ')}.", code="TAX_DETAILS_INVALID",
                               details={"field": field})
    return value


@transaction.atomic
def tax_profile_save(*, broker: Broker, legal_name: str, business_type: str, tin_type: str, tin: str | None,
                     address_line1: str, address_line2: str = "", city: str, state: str,
                     postal_code: str) -> TaxProfile:
    """Create or update the broker's tax details. `tin` may be left empty on an update (kept as is)."""
    if business_type not in TaxProfile.BusinessType.values:
        raise ValidationFailed("Choose a business type.", code="TAX_DETAILS_INVALID", details={"field": "business_type"})
    if tin_type not in TaxProfile.TinType.values:
        raise ValidationFailed("Choose SSN, EIN or ITIN.", code="TAX_DETAILS_INVALID", details={"field": "tin_type"})
    state = _text(state, "state", max_length=2).upper()
    if state not in US_STATES:
        raise ValidationFailed("Enter a US state code (e.g. NY).", code="TAX_DETAILS_INVALID", details={"field": "state"})
    postal_code = _text(postal_code, "postal_code", max_length=10)
    if not re.fullmatch(r"\d{5}(-\d{4})?", postal_code):
        raise ValidationFailed("Enter a ZIP code (12345 or 12345-6789).", code="TAX_DETAILS_INVALID",
                               details={"field": "postal_code"})
    fields = {"legal_name": _text(legal_name, "legal_name"), "business_type": business_type, "tin_type": tin_type,
              "address_line1": _text(address_line1, "address_line1"),
              "address_line2": _text(address_line2, "address_line2", required=False),
              "city": _text(city, "city", max_length=100), "state": state, "postal_code": postal_code}
    profile = TaxProfile.objects.select_for_update().filter(broker=broker).first()
    if tin:
        digits = tax.tin_normalize(tin_type=tin_type, value=tin)
        fields.update(tin_encrypted=tax.encrypt(digits), tin_last4=digits[-4:])
    elif profile is None or profile.tin_type != tin_type:
        raise ValidationFailed("Enter your TIN.", code="TAX_DETAILS_INVALID", details={"field": "tin"})
    if profile is None:
        profile = TaxProfile.objects.create(broker=broker, **fields)
    else:
        for name, value in fields.items():
            setattr(profile, name, value)
        profile.save()
    activity_log(action="broker.tax_details_saved", entity=profile, broker=broker,
                 metadata={"tin_type": tin_type, "tin_changed": bool(tin)})
    return profile


def tax_keys_rotate(*, batch_size: int = 500) -> int:
    """Re-encrypt every stored TIN with the newest key; returns how many rows were rewritten."""
    done = 0
    ids = list(TaxProfile.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            rows = list(TaxProfile.objects.select_for_update().filter(pk__in=ids[start:start + batch_size]))
            for row in rows:
                row.tin_encrypted = tax.reencrypt(row.tin_encrypted)
            TaxProfile.objects.bulk_update(rows, ["tin_encrypted"])
            done += len(rows)
    return done
