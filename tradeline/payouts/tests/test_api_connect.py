import httpx
import pytest
from django.test import Client

from tradeline.audit.models import ActivityLog
from tradeline.brokers.models import AdminRole
from tradeline.payouts.models import ConnectedAccount, Payout, PayoutStatus
from tradeline.payouts.services.connect import connect_account_refresh, connect_onboarding_link
from tradeline.payouts.tests.connect_helpers import REFRESH, RETURN, onboard, september_payout
from tradeline.payouts.tests.helpers import paid_order, utc
from tradeline.payouts.tests.test_api import admin_auth, broker_auth

pytestmark = pytest.mark.django_db(transaction=True)


def _state(account):
    account.refresh_from_db()
    return (account.state, account.details_submitted, account.payouts_enabled, account.transfers_active,
            account.requirements_due)


def test_onboarding_states_follow_account_updated_webhooks(stripe_sim, live_server, make_broker):
    """The account is created once; each step on Stripe's page reaches us as a signed account.updated."""
    stripe_sim.set_webhook_url(f"{live_server.url}/api/orders/webhook/stripe")
    broker = make_broker()
    first = connect_onboarding_link(broker=broker, refresh_url=REFRESH, return_url=RETURN)
    second = connect_onboarding_link(broker=broker, refresh_url=REFRESH, return_url=RETURN)
    assert first != second  # a fresh single-use link each time ...
    account = ConnectedAccount.objects.get(broker=broker)  # ... for one account
    assert _state(account)[:4] == ("ONBOARDING", False, False, False)
    assert "external_account" in account.requirements_due
    # Submitted, but the bank account is left for later: requirements due, payouts disabled.
    assert httpx.post(f"{second}/partial").status_code == 303
    assert _state(account) == ("RESTRICTED", True, False, False, ["external_account"])
    # A used link sends the broker to the refresh URL (where the portal makes a new one).
    assert httpx.get(second).headers["location"] == REFRESH
    third = connect_onboarding_link(broker=broker, refresh_url=REFRESH, return_url=RETURN)
    assert httpx.post(f"{third}/complete").status_code == 303
    assert _state(account) == ("ENABLED", True, True, True, [])
    # Stripe restricts the account later (verification past due).
    httpx.post(f"{stripe_sim.url}/_sim/connect/accounts/{account.stripe_account_id}/restrict", json={})
    assert _state(account) == ("RESTRICTED", True, False, False, ["individual.verification.document"])
    # The same event delivered again, or an older one late, changes nothing.
    events = stripe_sim.events("account.updated")
    assert len(events) == 3 and all(e["account"] == account.stripe_account_id for e in events)
    stripe_sim.send_events([events[-2]["id"]])  # the "complete" event, out of order
    assert _state(account)[0] == "RESTRICTED"
    assert ActivityLog.objects.filter(action="connect_account.created", broker=broker).count() == 1


def test_account_updated_for_an_account_that_is_not_ours_is_acknowledged(stripe_sim, live_server, make_broker):
    stripe_sim.set_webhook_url(f"{live_server.url}/api/orders/webhook/stripe")
    api = httpx.Client(base_url=stripe_sim.url, headers={"Authorization": f"Bearer {stripe_sim.secret_key}"})
    other = api.post("/v1/accounts", data={"type": "express", "capabilities[transfers][requested]": "true"}).json()
    result = httpx.post(f"{stripe_sim.url}/_sim/connect/accounts/{other['id']}/complete", json={}).json()
    assert [d["status"] for d in result["deliveries"]] == [200]
    assert ConnectedAccount.objects.count() == 0


def test_send_endpoint(stripe_sim, make_broker):
    client = Client()
    broker = make_broker()
    onboard(broker)
    payout = september_payout(broker)
    _, auth = admin_auth()
    _, support = admin_auth(AdminRole.SUPPORT)
    assert client.post(f"/api/payouts/{payout.pk}/send", **support).status_code == 403
    assert client.post(f"/api/payouts/{payout.pk}/send", **broker_auth(broker)).status_code == 401

    resp = client.post(f"/api/payouts/{payout.pk}/send", **auth)

    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert (body["outcome"], body["payout"]["status"], body["payout"]["payment_method"]) == (
        "sent", "COMPLETED", "STRIPE_CONNECT")
    assert body["payout"]["transaction_id"].startswith("tr_")
    again = client.post(f"/api/payouts/{payout.pk}/send", **auth).json()
    assert again["outcome"] == "already_sent" and again["payout"]["transaction_id"] == body["payout"]["transaction_id"]
    manual = september_payout(make_broker())
    refused = client.post(f"/api/payouts/{manual.pk}/send", **auth)
    assert refused.status_code == 409 and refused.json()["code"] == "NO_CONNECTED_ACCOUNT"
    assert Payout.objects.get(pk=manual.pk).status == PayoutStatus.PENDING


def test_statement_endpoint_json_and_csv(make_broker):
    client = Client()
    broker = make_broker()
    paid_order(broker=broker, paid_at=utc(2026, 5, 5), prices=(100_000,))
    auth = broker_auth(broker)
    body = client.get("/api/brokers/me/statements/2026", **auth).json()
    assert body["totals"]["earned_share"] == 10_000 and body["months"][4]["earned_markup"] == 20_000
    csv_resp = client.get("/api/brokers/me/statements/2026?format=csv", **auth)
    assert csv_resp["Content-Type"].startswith("text/csv") and "2026-05,100.00,200.00,0.00,0.00,0.00" in \
        csv_resp.content.decode()
    bad = client.get("/api/brokers/me/statements/1999", **auth)
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_YEAR"
    assert client.get("/api/brokers/me/statements/2026").status_code == 401


def test_a_late_event_older_than_a_retrieve_changes_nothing(stripe_sim, live_server, make_broker):
    broker = make_broker()
    url = connect_onboarding_link(broker=broker, refresh_url=REFRESH, return_url=RETURN)
    httpx.post(f"{url}/partial")  # account.updated recorded at the sim, not delivered (no webhook URL yet)
    account = ConnectedAccount.objects.get(broker=broker)
    httpx.post(f"{stripe_sim.url}/_sim/connect/accounts/{account.stripe_account_id}/complete",
               json={"deliver": False})
    onboard_state = connect_account_refresh(broker=broker)  # the return page reads the account: ENABLED
    assert onboard_state.state == "ENABLED"
    stripe_sim.set_webhook_url(f"{live_server.url}/api/orders/webhook/stripe")
    first = stripe_sim.events("account.updated")[0]
    assert first["data"]["object"]["payouts_enabled"] is False
    stripe_sim.send_events([first["id"]])  # the older "requirements due" event arrives late
    assert _state(account)[0] == "ENABLED"


def test_send_endpoint_answers_502_when_stripe_times_out_and_a_repeat_settles_it(stripe_sim, make_broker, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 1
    client = Client()
    broker = make_broker()
    onboard(broker)
    payout = september_payout(broker)
    _, auth = admin_auth()
    httpx.post(f"{stripe_sim.url}/_sim/connect/slow_after", json={"path": "/v1/transfers", "delay_ms": 2500,
                                                                  "count": 1})
    first = client.post(f"/api/payouts/{payout.pk}/send", **auth)
    assert first.status_code == 502 and first.json()["code"] == "STRIPE_UNAVAILABLE"
    blocked = client.post(f"/api/payouts/{payout.pk}/process", {"transaction_id": "wire-1"},
                          content_type="application/json", **auth)
    assert blocked.status_code == 409 and blocked.json()["code"] == "PAYOUT_TRANSFER_IN_FLIGHT"
    second = client.post(f"/api/payouts/{payout.pk}/send", **auth)
    assert second.status_code == 200 and second.json()["outcome"] == "sent"
    transfers = httpx.get(f"{stripe_sim.url}/_sim/connect/transfers").json()["data"]
    assert [t["id"] for t in transfers] == [second.json()["payout"]["transaction_id"]]
