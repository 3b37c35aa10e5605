"""Brokers' Stripe Connect accounts: onboarding and the account state.

- `connect_onboarding_link`: the broker's Express account is created once (POST /v1/accounts, the
  idempotency key is the broker id, and the row's one-to-one broker column backs "once"), then a
  fresh single-use account link to Stripe's hosted onboarding is returned.
- `connect_account_apply`: the state Stripe reports (details submitted, payouts enabled, transfers
  capability, requirements due) is stored, from an `account.updated` event or a retrieve. An event
  older than the one applied last changes nothing (Stripe does not guarantee the order).
- `on_account_updated`: the webhook handler, registered with core/stripe_events.py (apps.py).

No Stripe call runs inside a transaction.
"""

import logging
import time

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from tradeline.audit.services import activity_log
from tradeline.brokers.models import Broker
from tradeline.core.errors import Conflict
from tradeline.payouts import connect_gateway as gateway
from tradeline.payouts.models import ConnectedAccount

logger = logging.getLogger(__name__)


def connected_account_of(broker: Broker) -> ConnectedAccount | None:
    return ConnectedAccount.objects.filter(broker=broker).first()


def _state_fields(state: gateway.AccountState) -> dict:
    return {"details_submitted": state.details_submitted, "payouts_enabled": state.payouts_enabled,
            "transfers_active": state.transfers_active,
            "requirements_due": sorted(set(state.currently_due) | set(state.past_due)),
            "disabled_reason": state.disabled_reason[:100]}


def connect_account_create(*, broker: Broker) -> ConnectedAccount:
    """The broker's connected account, created at Stripe on the first call only."""
    account = connected_account_of(broker)
    if account is not None:
        return account
    if broker.status not in ("ACTIVE", "PENDING"):
        raise Conflict("Only an active broker can set up Stripe payouts.", code="BROKER_NOT_ACTIVE",
                       details={"status": broker.status})
    state = gateway.create_express_account(email=broker.email, broker_id=str(broker.pk))
    try:
        with transaction.atomic():
            account = ConnectedAccount.objects.create(broker=broker, stripe_account_id=state.id,
                                                      **_state_fields(state))
    except IntegrityError:  # a concurrent first call stored it (same idempotency key, same account)
        return ConnectedAccount.objects.get(broker=broker)
    activity_log(action="connect_account.created", entity=account, broker=broker,
                 metadata={"stripe_account_id": state.id})
    return account


def connect_onboarding_link(*, broker: Broker, refresh_url: str, return_url: str) -> str:
    """Where to send the broker to (continue) Stripe onboarding."""
    account = connect_account_create(broker=broker)
    return gateway.create_account_link(account_id=account.stripe_account_id, refresh_url=refresh_url,
                                       return_url=return_url)


def connect_account_apply(*, state: gateway.AccountState, event_created: int = 0) -> ConnectedAccount | None:
    """Store what Stripe says of an account; None when the account is not one of ours.

    A conditional UPDATE: an event whose `created` is older than the last state applied is skipped.
    A retrieve (event_created 0) is always applied and counts as of now."""
    fields = _state_fields(state)
    rows = ConnectedAccount.objects.filter(stripe_account_id=state.id)
    if event_created:
        updated = rows.filter(last_event_created__lte=event_created).update(last_event_created=event_created,
                                                                          **fields)
    else:
        # Read from Stripe just now. Event times have one-second resolution: an event of this very
        # second may be older or newer than what we read; the read wins (events must be later).
        after_now = int(time.time()) + 1
        updated = rows.update(last_event_created=Greatest(F("last_event_created"), Value(after_now)), **fields)
    account = rows.select_related("broker").first()
    if account is not None and updated:
        activity_log(action="connect_account.updated", entity=account, broker=account.broker,
                     metadata={"payouts_enabled": state.payouts_enabled, "details_submitted": state.details_submitted,
                               "requirements_due": fields["requirements_due"][:20]})
    return account


def connect_account_refresh(*, broker: Broker) -> ConnectedAccount | None:
    """Ask Stripe for the account's state now (the portal's return page)."""
    account = connected_account_of(broker)
    if account is None:
        return None
    return connect_account_apply(state=gateway.retrieve_account(account.stripe_account_id))


def on_account_updated(event: dict) -> tuple[str, str]:
    """`account.updated` (a Connect event: `account` names the connected account)."""
    obj = (event.get("data") or {}).get("object")
    if not isinstance(obj, dict) or obj.get("object") != "account" or not isinstance(obj.get("id"), str):
        return "IGNORED", "not an account object"
    if event.get("account") not in (None, obj["id"]):
        return "IGNORED", "event account and object differ"
    created = event.get("created") if isinstance(event.get("created"), int) else 0
    account = connect_account_apply(state=gateway.account_state(obj), event_created=created)
    if account is None:
        return "IGNORED", "not one of our connected accounts"
    return "PROCESSED", f"account {obj['id']}: payouts {'enabled' if account.payouts_enabled else 'disabled'}"
