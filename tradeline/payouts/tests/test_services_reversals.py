import httpx
import pytest

from tradeline.brokers.models import Broker, BrokerStatus
from tradeline.core.errors import Conflict, ValidationFailed
from tradeline.ledger.reconcile import reconcile_run, transfers
from tradeline.payouts.models import CommissionAdjustment, PayoutTransfer, TransferReversal
from tradeline.payouts.selectors import broker_earnings
from tradeline.payouts.services import payout_send, transfer_reverse
from tradeline.payouts.services.transfers import broker_balance
from tradeline.payouts.tests.connect_helpers import onboard, september_payout

pytestmark = pytest.mark.django_db(transaction=True)


def _sent_payout(broker):
    onboard(broker)
    payout = september_payout(broker)
    assert payout_send(payout_id=payout.pk).outcome == "sent"
    return PayoutTransfer.objects.get(payout=payout)


def _owes(broker, cents: int) -> None:
    """A clawback booked after the payout (what a refund of a paid-out order books)."""
    CommissionAdjustment.objects.create(broker=broker, amount=-cents, revenue_share_amount=-cents, markup_amount=0,
                                        reason=CommissionAdjustment.Reason.MANUAL, key=f"test-clawback-{broker.pk}")


# The orders here are marked paid by the payouts test helpers, not by the payment services, so only
# the payout-side checks are looked at.
PAYOUT_SIDE = {*transfers.CODES, "BROKER_LEDGER", "PAYOUT_LINES", "PAYOUT_DEAD_LINES", "ADJUSTMENT_STATUS",
               "COMMISSION_STATUS"}


def _codes(stripe=True):
    return sorted(d.code for d in reconcile_run(stripe=stripe).discrepancies if d.code in PAYOUT_SIDE)


def test_reversal_of_part_of_the_last_transfer_is_booked_as_an_adjustment(stripe_sim, make_broker):
    broker = make_broker()
    transfer = _sent_payout(broker)  # 30,000 sent
    _owes(broker, 12_000)
    Broker.objects.filter(pk=broker.pk).update(status=BrokerStatus.INACTIVE)
    assert broker_balance(broker_id=broker.pk) == -12_000
    with pytest.raises(ValidationFailed) as too_much:
        transfer_reverse(broker_id=broker.pk, amount=12_001)
    assert too_much.value.details == {"max": 12_000}

    reversal = transfer_reverse(broker_id=broker.pk, amount=12_000)

    assert (reversal.status, reversal.amount) == ("DONE", 12_000)
    stripe_transfer = httpx.get(f"{stripe_sim.url}/_sim/connect/transfers").json()["data"][0]
    assert stripe_transfer["amount_reversed"] == 12_000
    assert stripe_transfer["reversals"]["data"][0]["id"] == reversal.stripe_reversal_id
    transfer.refresh_from_db()
    assert transfer.amount_reversed == 12_000
    adjustment = reversal.adjustment
    assert (adjustment.amount, adjustment.reason, adjustment.status) == (12_000, "TRANSFER_REVERSAL", "OPEN")
    assert broker_balance(broker_id=broker.pk) == 0
    # Money taken back settles the debt; it is not an earning given back (clawed back stays 0: the
    # test's debt is a MANUAL adjustment).
    assert broker_earnings(broker=broker)["clawed_back"] == 0
    assert _codes() == []
    with pytest.raises(Conflict) as nothing_owed:
        transfer_reverse(broker_id=broker.pk, amount=1)
    assert nothing_owed.value.code == "NO_NEGATIVE_BALANCE"
    assert TransferReversal.objects.count() == 1


def test_reversal_only_for_a_deactivated_broker(stripe_sim, make_broker):
    broker = make_broker()
    _sent_payout(broker)
    _owes(broker, 5_000)
    with pytest.raises(Conflict) as active:
        transfer_reverse(broker_id=broker.pk, amount=5_000)
    assert active.value.code == "BROKER_NOT_DEACTIVATED"
    assert TransferReversal.objects.count() == 0
    assert httpx.get(f"{stripe_sim.url}/_sim/connect/transfers").json()["data"][0]["amount_reversed"] == 0
