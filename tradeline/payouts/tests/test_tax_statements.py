import logging

import pytest
from cryptography.fernet import Fernet
from django.db.models import Sum

from tradeline.core.errors import ValidationFailed
from tradeline.core.logging import redact
from tradeline.payouts import tax
from tradeline.payouts.models import CommissionAdjustment, CommissionRecord, Payout, TaxProfile
from tradeline.payouts.services import payout_mark_paid
from tradeline.payouts.services.tax import tax_keys_rotate, tax_profile_save
from tradeline.payouts.statements import broker_statement, broker_statement_csv, tax_year_csv, tax_year_rows
from tradeline.payouts.tests.helpers import paid_order, set_refunded, utc
from tradeline.payouts.services import commission_apply_refund, payout_create_monthly

pytestmark = pytest.mark.django_db

TIN = "123-45-6789"


@pytest.fixture
def tax_key(settings):
    key = Fernet.generate_key().decode()
    settings.TAX_ID_ENCRYPTION_KEYS = [key]
    return key


def _save(broker, tin=TIN, **kw):
    fields = dict(legal_name="Jane Q Broker", business_type="INDIVIDUAL", tin_type="SSN", tin=tin,
                  address_line1="1 Main St", city="Albany", state="NY", postal_code="12207")
    fields.update(kw)
    return tax_profile_save(broker=broker, **fields)


def test_tin_is_encrypted_masked_and_rotatable(make_broker, tax_key, settings):
    broker = make_broker()
    profile = _save(broker)
    stored = TaxProfile.objects.values_list("tin_encrypted", "tin_last4").get(broker=broker)
    assert "6789" != stored[0] and "123456789" not in stored[0] and stored[1] == "6789"
    assert tax.decrypt(stored[0]) == "123456789"
    assert profile.tin_masked == "***-**-6789" and "123" not in repr(profile)
    # Rotation: the new key first, the old one still accepted; after the rotation the old one can go.
    new_key = Fernet.generate_key().decode()
    settings.TAX_ID_ENCRYPTION_KEYS = [new_key, tax_key]
    assert tax_keys_rotate() == 1
    settings.TAX_ID_ENCRYPTION_KEYS = [new_key]
    assert tax.decrypt(TaxProfile.objects.get(broker=broker).tin_encrypted) == "123456789"
    # An update without a TIN keeps it.
    _save(broker, tin="", city="Troy")
    assert tax.decrypt(TaxProfile.objects.get(broker=broker).tin_encrypted) == "123456789"


def test_invalid_tins_are_refused(make_broker, tax_key):
    broker = make_broker()
    for tin_type, tin in (("SSN", "12345678"), ("SSN", "900-12-3456"), ("ITIN", "123-45-6789"), ("EIN", "00-1234567")):
        with pytest.raises(ValidationFailed) as bad:
            _save(broker, tin=tin, tin_type=tin_type)
        assert bad.value.code == "TIN_INVALID" and tin not in bad.value.message
    assert TaxProfile.objects.count() == 0


def test_tin_never_reaches_the_logs(make_broker, tax_key, caplog):
    broker = make_broker()
    caplog.set_level(logging.DEBUG)
    _save(broker)
    logging.getLogger("tradeline").info("saved tin=%s for %s", "123456789", TIN)
    text = "\n".join(redact(r.getMessage()) for r in caplog.records)
    assert "123456789" not in text and TIN not in text
    assert all("123456789" not in r.getMessage() and TIN not in r.getMessage()
               for r in caplog.records if r.name != "tradeline")


def test_statement_equals_the_ledger(make_broker):
    broker = make_broker()
    paid_order(broker=broker, paid_at=utc(2026, 1, 15), prices=(100_000,))  # share 10,000 + markup 20,000
    refunded = paid_order(broker=broker, paid_at=utc(2026, 2, 3), prices=(50_000,))  # 5,000 + 10,000
    january = payout_create_monthly(broker=broker, year=2026, month=1, now=utc(2026, 3, 1))
    payout_mark_paid(payout_id=january.pk, transaction_id="wire-1")
    Payout.objects.filter(pk=january.pk).update(processed_at=utc(2026, 2, 5))
    # Half of the February order refunded before its payout: the commission shrinks in place.
    commission_apply_refund(order=set_refunded(refunded, 30_000))
    paid_order(broker=broker, paid_at=utc(2025, 12, 31, 23, 59), prices=(100_000,))  # another year

    statement = broker_statement(broker=broker, year=2026)

    ledger = CommissionRecord.objects.filter(broker=broker, order_paid_at__year=2026).aggregate(
        share=Sum("original_revenue_share"), markup=Sum("original_markup"), now=Sum("total_commission"))
    totals = statement["totals"]
    assert (totals["earned_share"], totals["earned_markup"]) == (ledger["share"], ledger["markup"]) == (15_000, 30_000)
    assert totals["clawed_back"] == ledger["share"] + ledger["markup"] - ledger["now"] == 7_500
    assert totals["paid_out"] == 30_000 and totals["net_earned"] == 37_500
    assert [m["earned_share"] for m in statement["months"][:3]] == [10_000, 5_000, 0]
    assert [m["paid_out"] for m in statement["months"][:3]] == [0, 30_000, 0]
    assert statement["payouts"] == [{"payout_id": str(january.pk), "period": "2026-01",
                                     "paid_at": "2026-02-05T00:00:00+00:00", "payment_method": "ACH",
                                     "transaction_id": "wire-1", "amount": 30_000, "amount_usd": "300.00"}]
    csv_text = broker_statement_csv(statement)
    assert "2026-02,50.00,100.00,75.00,0.00,300.00" in csv_text and "total,150.00,300.00,75.00,0.00,300.00" in csv_text
    assert CommissionAdjustment.objects.count() == 0


def test_year_end_export_lists_brokers_paid_600_or_more(make_broker, tax_key):
    big = make_broker(name="Big")
    small = make_broker(name="Small")
    for broker, price in ((big, 200_000), (small, 100_000)):  # 60,000 and 30,000 earned
        paid_order(broker=broker, paid_at=utc(2026, 3, 3), prices=(price,))
        payout = payout_create_monthly(broker=broker, year=2026, month=3, now=utc(2026, 4, 2))
        payout_mark_paid(payout_id=payout.pk, transaction_id=f"wire-{broker.pk}")
    Payout.objects.update(processed_at=utc(2026, 4, 3))
    [row] = tax_year_rows(year=2026)
    assert (row["broker_name"], row["paid_total"], row["payout_method"], row["missing_tax_details"]) == (
        "Big", 60_000, "ACH", True)
    _save(big)
    text = tax_year_csv(year=2026)
    assert "***-**-6789" in text and "123-45-6789" not in text and "123456789" not in text
    assert tax_year_rows(year=2026)[0]["missing_tax_details"] is False
    assert tax_year_rows(year=2025) == []
