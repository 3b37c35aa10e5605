"""The local Stripe server's Connect subset, through the official SDK (the pinned API version)."""

import httpx
import pytest
import stripe


@pytest.fixture
def client(stripe_sim):
    return stripe.StripeClient(stripe_sim.secret_key, base_addresses={"api": stripe_sim.url})


def _enabled_account(client, stripe_sim):
    account = client.v1.accounts.create({"type": "express", "country": "US",
                                         "capabilities": {"transfers": {"requested": True}}})
    httpx.post(f"{stripe_sim.url}/_sim/connect/accounts/{account.id}/complete", json={"deliver": False})
    return account


def test_new_express_account_has_onboarding_due(client):
    account = client.v1.accounts.create({"type": "express", "country": "US", "email": "b@example.com",
                                         "capabilities": {"transfers": {"requested": True}},
                                         "metadata": {"broker_id": "42"}})
    assert account.object == "account" and account.type == "express" and account.id.startswith("acct_")
    assert (account.details_submitted, account.payouts_enabled, account.charges_enabled) == (False, False, False)
    assert account.capabilities.transfers == "inactive"
    assert "external_account" in account.requirements.currently_due
    assert account.requirements.disabled_reason == "requirements.past_due"
    assert client.v1.accounts.retrieve(account.id).metadata.to_dict() == {"broker_id": "42"}


def test_strict_parameters(client):
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.accounts.create({"type": "express", "capabilities": {"transfers": {"requested": True}},
                                   "colour": "red"})
    assert unknown.value.code == "parameter_unknown"
    with pytest.raises(stripe.InvalidRequestError, match="at least one capability"):
        client.v1.accounts.create({"type": "express"})
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.transfers.create({"amount": 100, "currency": "usd"})
    assert missing.value.code == "parameter_missing" and missing.value.param == "destination"


def test_account_link_is_single_use(client, stripe_sim):
    account = client.v1.accounts.create({"type": "express", "capabilities": {"transfers": {"requested": True}}})
    link = client.v1.account_links.create({"account": account.id, "type": "account_onboarding",
                                           "refresh_url": "http://x.test/refresh", "return_url": "http://x.test/back"})
    assert link.object == "account_link" and link.expires_at - link.created == 300
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.account_links.create({"account": account.id, "type": "account_update",
                                        "refresh_url": "http://x.test/r", "return_url": "http://x.test/b"})
    assert httpx.post(f"{link.url}/complete").headers["location"] == "http://x.test/back"
    assert httpx.get(link.url).headers["location"] == "http://x.test/refresh"
    [event] = stripe_sim.events("account.updated")
    assert event["account"] == account.id and event["data"]["object"]["payouts_enabled"] is True
    assert event["data"]["previous_attributes"]["payouts_enabled"] is False


def test_transfers_balance_and_reversals(client, stripe_sim):
    account = _enabled_account(client, stripe_sim)
    httpx.post(f"{stripe_sim.url}/_sim/connect/balance", json={"available": 10_000})
    transfer = client.v1.transfers.create({"amount": 7_500, "currency": "usd", "destination": account.id,
                                           "transfer_group": "payout-1", "metadata": {"payout_id": "1"}})
    assert (transfer.amount, transfer.amount_reversed, transfer.reversed, transfer.transfer_group) == (
        7_500, 0, False, "payout-1")
    assert client.v1.balance.retrieve().available[0].amount == 2_500
    with pytest.raises(stripe.InvalidRequestError) as short:
        client.v1.transfers.create({"amount": 2_501, "currency": "usd", "destination": account.id})
    assert short.value.code == "balance_insufficient"
    reversal = client.v1.transfers.reversals.create(transfer.id, {"amount": 500})
    assert (reversal.object, reversal.amount, reversal.transfer) == ("transfer_reversal", 500, transfer.id)
    again = client.v1.transfers.retrieve(transfer.id)
    assert (again.amount_reversed, again.reversals.total_count) == (500, 1)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.transfers.reversals.create(transfer.id, {"amount": 7_001})
    assert client.v1.balance.retrieve().available[0].amount == 3_000
    assert [t.id for t in client.v1.transfers.list({"transfer_group": "payout-1"}).data] == [transfer.id]
    assert client.v1.transfers.list({"transfer_group": "other"}).data == []


def test_restricted_account_cannot_receive(client, stripe_sim):
    account = _enabled_account(client, stripe_sim)
    httpx.post(f"{stripe_sim.url}/_sim/connect/accounts/{account.id}/restrict", json={"deliver": False})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.create({"amount": 100, "currency": "usd", "destination": account.id})
    assert refused.value.code == "insufficient_capabilities_for_transfer"
    assert client.v1.accounts.retrieve(account.id).requirements.past_due == ["individual.verification.document"]
