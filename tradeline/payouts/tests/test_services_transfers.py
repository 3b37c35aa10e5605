import httpx
import pytest
from django.core import mail

from tradeline.audit.models import ActivityLog
from tradeline.core.errors import Conflict, UpstreamError
from tradeline.payouts.models import (
    CommissionRecord,
    CommissionStatus,
    Payout,
    PayoutStatus,
    PayoutTransfer,
)
from tradeline.payouts.services import payout_cancel, payout_send, payouts_send_all
from tradeline.payouts.tests.connect_helpers import onboard, september_payout
from tradeline.testing.concurrency import raised, run_together

pytestmark = pytest.mark.django_db(transaction=True)


def sim_transfers(stripe_sim):
    return httpx.get(f"{stripe_sim.url}/_sim/connect/transfers").json()["data"]


def test_send_makes_one_transfer_and_completes_the_payout(stripe_sim, make_broker, settings):
    broker = make_broker()
    account = onboard(broker)
    payout = september_payout(broker, prices=(100_000, 50_000))
    assert payout.total_amount == 45_000

    result = payout_send(payout_id=payout.pk)

    assert result.outcome == "sent"
    [transfer] = sim_transfers(stripe_sim)
    assert transfer["amount"] == 45_000 and transfer["destination"] == account.stripe_account_id
    assert transfer["transfer_group"] == str(payout.pk) and transfer["currency"] == "usd"
    assert transfer["metadata"] == {"payout_id": str(payout.pk), "broker_id": str(broker.pk), "period": "2026-09"}
    payout.refresh_from_db()
    assert (payout.status, payout.transaction_id, payout.payment_method) == (
        PayoutStatus.COMPLETED, transfer["id"], "STRIPE_CONNECT")
    row = PayoutTransfer.objects.get(payout=payout)
    assert (row.status, row.stripe_transfer_id, row.amount, row.attempts) == ("SENT", transfer["id"], 45_000, 1)
    assert set(CommissionRecord.objects.filter(broker=broker).values_list("status", flat=True)) == {"PAID"}
    [sent] = mail.outbox
    assert sent.to == [broker.email] and "$450.00" in sent.body and transfer["id"] in sent.body
    # Sending again changes nothing and asks Stripe for nothing new.
    assert payout_send(payout_id=payout.pk).outcome == "already_sent"
    assert len(sim_transfers(stripe_sim)) == 1 and len(mail.outbox) == 1


def test_timeout_after_stripe_made_the_transfer_then_resend_finds_it(stripe_sim, make_broker, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 1
    broker = make_broker()
    onboard(broker)
    payout = september_payout(broker)
    # Stripe makes the transfer, then answers after our timeout.
    httpx.post(f"{stripe_sim.url}/_sim/connect/slow_after", json={"path": "/v1/transfers", "delay_ms": 2500,
                                                                  "count": 1})
    with pytest.raises(UpstreamError):
        payout_send(payout_id=payout.pk)
    assert len(sim_transfers(stripe_sim)) == 1
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PENDING
    assert PayoutTransfer.objects.get(payout=payout).status == "SENDING"
    with pytest.raises(Conflict) as refused:  # nobody settles it by hand while the outcome is unknown
        payout_cancel(payout_id=payout.pk)
    assert refused.value.code == "PAYOUT_TRANSFER_IN_FLIGHT"

    result = payout_send(payout_id=payout.pk)

    [transfer] = sim_transfers(stripe_sim)
    assert result.outcome == "sent" and result.payout.transaction_id == transfer["id"]
    assert PayoutTransfer.objects.get(payout=payout).attempts == 2


def test_concurrent_sends_make_one_transfer(stripe_sim, make_broker):
    broker = make_broker()
    onboard(broker)
    payout = september_payout(broker)

    results = run_together([lambda: payout_send(payout_id=payout.pk) for _ in range(4)])

    assert raised(results) == []
    assert sorted(r.outcome for r in results).count("sent") == 1
    [transfer] = sim_transfers(stripe_sim)
    assert Payout.objects.get(pk=payout.pk).transaction_id == transfer["id"]
    assert ActivityLog.objects.filter(action="payout.completed", entity_id=str(payout.pk)).count() == 1


def test_declined_for_balance_fails_the_payout_and_releases_commissions(stripe_sim, make_broker, settings):
    settings.ADMIN_EMAILS = ["ops@tradeline.example"]
    broker = make_broker()
    onboard(broker)
    payout = september_payout(broker)
    httpx.post(f"{stripe_sim.url}/_sim/connect/balance", json={"available": 29_999})

    result = payout_send(payout_id=payout.pk)

    assert result.outcome == "declined"
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.FAILED and "insufficient available funds" in payout.notes
    row = PayoutTransfer.objects.get(payout=payout)
    assert (row.status, row.failure_code, row.stripe_transfer_id) == ("DECLINED", "balance_insufficient", "")
    commission = CommissionRecord.objects.get(broker=broker)
    assert (commission.status, commission.payout_id) == (CommissionStatus.PAYABLE, None)
    assert sim_transfers(stripe_sim) == []
    [alert] = mail.outbox
    assert alert.to == ["ops@tradeline.example"] and "insufficient available funds" in alert.body
    with pytest.raises(Conflict) as again:
        payout_send(payout_id=payout.pk)
    assert again.value.code == "PAYOUT_TRANSFER_DECLINED"


def test_restricted_account_is_refused_before_stripe_and_by_stripe(stripe_sim, make_broker):
    broker = make_broker()
    account = onboard(broker)
    payout = september_payout(broker)
    # Stripe restricts the account but our copy has not heard yet: Stripe refuses the transfer.
    httpx.post(f"{stripe_sim.url}/_sim/connect/accounts/{account.stripe_account_id}/restrict", json={})

    result = payout_send(payout_id=payout.pk)

    assert result.outcome == "declined"
    assert PayoutTransfer.objects.get(payout=payout).failure_code == "insufficient_capabilities_for_transfer"
    assert Payout.objects.get(pk=payout.pk).status == PayoutStatus.FAILED


def test_broker_without_account_or_with_requirements_due_is_not_sent(stripe_sim, make_broker):
    manual = make_broker(email="manual@example.com")
    due = make_broker(email="due@example.com")
    onboard(due, complete=False)
    p1, p2 = september_payout(manual), september_payout(due)
    with pytest.raises(Conflict) as none:
        payout_send(payout_id=p1.pk)
    with pytest.raises(Conflict) as pending:
        payout_send(payout_id=p2.pk)
    assert (none.value.code, pending.value.code) == ("NO_CONNECTED_ACCOUNT", "PAYOUTS_NOT_ENABLED")
    assert payouts_send_all(payout_ids=[p1.pk, p2.pk])["manual"] == 2
    assert set(Payout.objects.values_list("status", flat=True)) == {PayoutStatus.PENDING}
    assert PayoutTransfer.objects.count() == 0 and sim_transfers(stripe_sim) == []


def test_create_payouts_send_sends_the_ready_and_leaves_the_others_pending(stripe_sim, make_broker):
    import io

    from django.core.management import call_command

    from tradeline.payouts.tests.helpers import paid_order, utc

    ready = [make_broker() for _ in range(3)]
    manual = make_broker()
    for broker in ready:
        onboard(broker)
    for broker in [*ready, manual]:
        paid_order(broker=broker, paid_at=utc(2026, 9, 10), prices=(100_000,))
    out = io.StringIO()
    call_command("create_payouts", "--month", "2026-09", "--send", stdout=out, stderr=io.StringIO())
    assert "Sent with Stripe: 3 sent, 0 already sent, 0 declined, 0 no answer (run --send again), " \
           "1 left for a manual transfer" in out.getvalue()
    statuses = dict(Payout.objects.values_list("broker_id", "status"))
    assert statuses == {**{b.pk: "COMPLETED" for b in ready}, manual.pk: "PENDING"}
    assert sorted(t["destination"] for t in sim_transfers(stripe_sim)) == sorted(
        b.connected_account.stripe_account_id for b in ready)
    # Running it again sends nothing more.
    call_command("create_payouts", "--month", "2026-09", "--send", stdout=io.StringIO(), stderr=io.StringIO())
    assert len(sim_transfers(stripe_sim)) == 3


def test_nothing_is_claimed_when_stripe_is_not_configured(stripe_sim, make_broker, settings):
    broker = make_broker()
    onboard(broker)
    payout = september_payout(broker)
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(UpstreamError):
        payout_send(payout_id=payout.pk)
    with pytest.raises(UpstreamError):
        payouts_send_all(payout_ids=[payout.pk])
    assert PayoutTransfer.objects.count() == 0 and Payout.objects.get(pk=payout.pk).status == PayoutStatus.PENDING


def test_two_concurrent_month_end_sends_make_one_transfer_per_payout(stripe_sim, make_broker):
    brokers = [make_broker() for _ in range(3)]
    for broker in brokers:
        onboard(broker)
    ids = [september_payout(broker).pk for broker in brokers]

    results = run_together([lambda: payouts_send_all(payout_ids=ids, workers=2) for _ in range(2)])

    assert raised(results) == []
    assert sum(r["sent"] for r in results) == 3
    assert len(sim_transfers(stripe_sim)) == 3
    assert set(Payout.objects.values_list("status", flat=True)) == {PayoutStatus.COMPLETED}
    assert ActivityLog.objects.filter(action="payout.completed").count() == 3
