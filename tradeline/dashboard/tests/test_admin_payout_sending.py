import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tradeline.brokers.models import AdminRole, Broker, BrokerStatus
from tradeline.payouts.models import CommissionAdjustment, PayoutStatus, PayoutTransfer, TransferReversal
from tradeline.payouts.tests.connect_helpers import onboard, september_payout
from tradeline.testing.factories import make_admin

pytestmark = pytest.mark.django_db(transaction=True)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def admin_client(client):
    client.force_login(make_admin(role=AdminRole.ADMIN))
    return client


def test_send_via_stripe_from_the_payout_page(admin_client, make_broker, stripe_sim):
    broker = make_broker()
    account = onboard(broker)
    payout = september_payout(broker)
    page = admin_client.get(reverse("admin:payouts_payout_change", args=[payout.pk]))
    assert b"send-stripe" in page.content and account.stripe_account_id.encode() in page.content

    sent = admin_client.post(reverse("admin:payouts_payout_action", args=[payout.pk, "send"]), follow=True)

    transfer = PayoutTransfer.objects.get(payout=payout)
    assert _messages(sent) == [f"Sent with Stripe: transfer {transfer.stripe_transfer_id}; the payout is COMPLETED."]
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.COMPLETED and payout.transaction_id == transfer.stripe_transfer_id
    assert b'data-field="transfer-status">SENT' in sent.content
    brokers = admin_client.get(reverse("admin:brokers_broker_changelist"))
    assert b"Stripe (enabled)" in brokers.content


def test_support_cannot_send(client, make_broker, stripe_sim):
    client.force_login(make_admin(role=AdminRole.SUPPORT))
    broker = make_broker()
    onboard(broker)
    payout = september_payout(broker)
    client.post(reverse("admin:payouts_payout_action", args=[payout.pk, "send"]))
    assert PayoutTransfer.objects.count() == 0


def test_reverse_from_the_broker_page(admin_client, make_broker, stripe_sim):
    broker = make_broker()
    onboard(broker)
    payout = september_payout(broker)
    admin_client.post(reverse("admin:payouts_payout_action", args=[payout.pk, "send"]))
    CommissionAdjustment.objects.create(broker=broker, amount=-2_500, revenue_share_amount=-2_500, markup_amount=0,
                                        reason="MANUAL", key="owed")
    Broker.objects.filter(pk=broker.pk).update(status=BrokerStatus.INACTIVE)
    page = admin_client.get(reverse("admin:brokers_broker_change", args=[broker.pk]))
    assert b"reverse-form" in page.content and b'data-field="balance">-$25.00' in page.content

    done = admin_client.post(reverse("admin:payouts_payout_reverse", args=[broker.pk]), {"amount_usd": "25.00"},
                             follow=True)

    reversal = TransferReversal.objects.get()
    assert _messages(done) == [f"$25.00 taken back from transfer {reversal.transfer.stripe_transfer_id}."]
    assert reversal.amount == 2_500 and reversal.adjustment.amount == 2_500


def test_tax_export_csv(admin_client):
    resp = admin_client.get(reverse("admin:payouts_payout_tax_export") + "?year=2026")
    assert resp.status_code == 200 and resp.content.decode().splitlines()[0].startswith("broker_id,broker_name")


def test_declined_send_shows_stripes_reason(admin_client, make_broker, stripe_sim):
    import httpx

    broker = make_broker()
    onboard(broker)
    payout = september_payout(broker)
    httpx.post(f"{stripe_sim.url}/_sim/connect/balance", json={"available": 0})

    page = admin_client.post(reverse("admin:payouts_payout_action", args=[payout.pk, "send"]), follow=True)

    assert _messages(page)[0].startswith("Stripe declined the transfer; the payout is FAILED")
    assert b'data-field="transfer-status">DECLINED' in page.content and b"balance_insufficient" in page.content
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.FAILED
