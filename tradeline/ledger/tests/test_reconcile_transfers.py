"""`reconcile` compares each payout sent with Stripe Connect with its Transfer, here and at Stripe."""

from datetime import timedelta

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from tradeline.ledger.reconcile import reconcile_run, transfers
from tradeline.payouts.models import PayoutTransfer
from tradeline.payouts.services import payout_send
from tradeline.payouts.tests.connect_helpers import onboard, september_payout

pytestmark = pytest.mark.django_db(transaction=True)

# The orders here are marked paid by the payouts test helpers, not by the payment services, so only
# the payout-side checks are looked at.
PAYOUT_SIDE = {*transfers.CODES, "BROKER_LEDGER", "PAYOUT_LINES", "PAYOUT_DEAD_LINES", "ADJUSTMENT_STATUS",
               "COMMISSION_STATUS"}


def _codes(stripe=True):
    return sorted(d.code for d in reconcile_run(stripe=stripe).discrepancies if d.code in PAYOUT_SIDE)


def _raw(sql: str, pk) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=PayoutTransfer._meta.db_table),
                       [pk.hex if connection.vendor == "sqlite" else pk])


def test_reconcile_compares_each_sent_payout_with_its_transfer(stripe_sim, make_broker):
    broker = make_broker()
    onboard(broker)
    payout = september_payout(broker)
    assert payout_send(payout_id=payout.pk).outcome == "sent"
    transfer = PayoutTransfer.objects.get(payout=payout)
    report = reconcile_run(stripe=True)
    assert report.checked["sent payouts"] == 1 and report.checked["transfers compared with Stripe"] == 1
    assert _codes() == []
    # Stripe's transfer reversed behind our back: only the Stripe comparison sees it.
    api = httpx.Client(base_url=stripe_sim.url, headers={"Authorization": f"Bearer {stripe_sim.secret_key}"})
    assert api.post(f"/v1/transfers/{transfer.stripe_transfer_id}/reversals", data={"amount": "100"}).status_code == 200
    assert _codes() == ["STRIPE_TRANSFER_MISMATCH"]
    assert _codes(stripe=False) == []
    # Our record says another amount than the payout's total.
    _raw("UPDATE {table} SET amount = amount - 1 WHERE id = %s", transfer.pk)
    assert _codes(stripe=False) == ["TRANSFER_RECORD"]


def test_reconcile_reports_a_send_left_unknown(stripe_sim, make_broker):
    broker = make_broker()
    onboard(broker)
    payout = september_payout(broker)
    PayoutTransfer.objects.create(payout=payout, broker=broker, destination="acct_x", amount=payout.total_amount,
                                  idempotency_key="k-test", attempts=1)
    assert _codes(stripe=False) == []
    PayoutTransfer.objects.filter(payout=payout).update(updated_at=timezone.now() - timedelta(hours=2))
    assert _codes(stripe=False) == ["TRANSFER_UNSETTLED"]


def test_reconcile_reports_a_stripe_paid_payout_without_a_transfer(stripe_sim, make_broker):
    from tradeline.payouts.models import Payout
    from tradeline.payouts.services import payout_mark_paid

    broker = make_broker()
    payout = september_payout(broker)
    payout_mark_paid(payout_id=payout.pk, transaction_id="tr_made_up")
    assert _codes(stripe=False) == []
    Payout.objects.filter(pk=payout.pk).update(payment_method="STRIPE_CONNECT")
    assert _codes(stripe=False) == ["TRANSFER_RECORD"]
