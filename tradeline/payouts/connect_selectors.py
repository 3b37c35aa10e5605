"""Reads about how a broker is paid: payout method, Connect account state, tax details on file,
balance and the last transfer (for the admin's broker page and the brokers list)."""

from tradeline.brokers.models import Broker, BrokerStatus
from tradeline.payouts.models import ConnectedAccount, PayoutTransfer, TaxProfile
from tradeline.payouts.services.transfers import broker_balance


def payout_method(*, broker: Broker) -> dict:
    account = ConnectedAccount.objects.filter(broker=broker).first()
    profile = TaxProfile.objects.filter(broker=broker).first()
    last = (PayoutTransfer.objects.filter(broker=broker, status=PayoutTransfer.Status.SENT)
            .order_by("-sent_at").first())
    balance = broker_balance(broker_id=broker.pk)
    return {
        "method": "Stripe Connect" if account and account.can_receive else "Manual transfer",
        "account": account,
        "account_state": account.state if account else "NONE",
        "tax_profile": profile,
        "balance": balance,
        "last_transfer": last,
        "reversible": (last.amount - last.amount_reversed) if last else 0,
        "can_reverse": bool(last) and balance < 0 and broker.status == BrokerStatus.INACTIVE
                       and last.amount > last.amount_reversed,
    }


def account_states(broker_ids) -> dict:
    """{broker id: account state} for a page of brokers (one query)."""
    return {a.broker_id: a.state for a in ConnectedAccount.objects.filter(broker_id__in=list(broker_ids))}
