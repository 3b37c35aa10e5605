"""What we say to Stripe Connect: connected accounts, onboarding links, transfers, reversals, balance.

The payouts sibling of payments/stripe_gateway.py (payouts sits above payments, and payments already
calls up into payouts, so payouts importing payments would be an app cycle): the only other module
importing the `stripe` SDK. Same settings (STRIPE_SECRET_KEY, STRIPE_API_BASE, STRIPE_TIMEOUT_SECONDS,
STRIPE_MAX_NETWORK_RETRIES) and the same error contract:

- Stripe refusing the request (4xx) -> StripeRefused (code STRIPE_REJECTED; `stripe_code`, e.g.
  `balance_insufficient`, and Stripe's message in details): the request did nothing;
- network trouble, timeouts, rate limits, 5xx, bad credentials, a concurrent request with the same
  idempotency key (409) -> UpstreamError STRIPE_UNAVAILABLE: the outcome is unknown, look before
  asking again (transfers: `find_transfers(transfer_group=...)`, then the same idempotency key).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import stripe
from django.conf import settings

from tradeline.core.errors import ApplicationError, UpstreamError

logger = logging.getLogger(__name__)

_clients: dict[tuple, stripe.StripeClient] = {}
_clients_lock = threading.Lock()


class StripeRefused(ApplicationError):
    """Stripe answered 4xx: nothing was done (e.g. balance_insufficient, a restricted account)."""

    status = 400
    code = "STRIPE_REJECTED"

    @property
    def stripe_code(self) -> str:
        return str((self.details or {}).get("stripe_code") or "")

    @property
    def stripe_message(self) -> str:
        return str((self.details or {}).get("stripe_message") or self.message)


def get_client() -> stripe.StripeClient:
    api_key = settings.STRIPE_SECRET_KEY
    if not api_key:
        raise UpstreamError("Payments are not configured (STRIPE_SECRET_KEY is empty).", code="STRIPE_UNAVAILABLE")
    config = (api_key, settings.STRIPE_API_BASE, int(settings.STRIPE_MAX_NETWORK_RETRIES),
              float(settings.STRIPE_TIMEOUT_SECONDS))
    with _clients_lock:
        client = _clients.get(config)
        if client is None:
            client = stripe.StripeClient(api_key, base_addresses={"api": config[1]} if config[1] else None,
                                         max_network_retries=config[2],
                                         http_client=stripe.RequestsClient(timeout=config[3]))
            _clients.clear()
            _clients[config] = client
        return client


def _call(action: str, fn, *args):
    try:
        return fn(*args)
    except stripe.StripeError as exc:
        status = exc.http_status
        err = exc.error
        if status is None or status >= 500 or status in (401, 403, 409, 429) or isinstance(
                exc, (stripe.APIConnectionError, stripe.RateLimitError, stripe.AuthenticationError,
                      stripe.PermissionError, stripe.IdempotencyError)):
            logger.warning("stripe %s failed: %s (status %s, request %s)", action, type(exc).__name__, status,
                           exc.request_id)
            raise UpstreamError("The payment service is unavailable or did not answer. Please try again shortly.",
                                code="STRIPE_UNAVAILABLE", details={"request_id": exc.request_id}) from exc
        message = getattr(err, "message", None) or exc.user_message or ""
        logger.info("stripe %s rejected: %s %s", action, status, exc.code)
        details = {"stripe_code": exc.code, "stripe_message": message, "param": getattr(err, "param", None),
                   "request_id": exc.request_id}
        raise StripeRefused(f"Stripe refused the request: {message}".strip(),
                            status=404 if status == 404 else 400,
                            details={k: v for k, v in details.items() if v is not None}) from exc


def _as_dict(obj) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


@dataclass(frozen=True)
class AccountState:
    """What we keep of a connected account."""

    id: str
    details_submitted: bool
    payouts_enabled: bool
    transfers_active: bool
    currently_due: list[str]
    past_due: list[str]
    disabled_reason: str


@dataclass(frozen=True)
class Transfer:
    id: str
    amount: int
    amount_reversed: int
    currency: str
    destination: str
    transfer_group: str
    metadata: dict
    reversals: list[dict]


def account_state(account: dict) -> AccountState:
    """Read an Account object (from the API or an account.updated event)."""
    requirements = account.get("requirements") or {}
    capabilities = account.get("capabilities") or {}
    return AccountState(
        id=str(account["id"]),
        details_submitted=account.get("details_submitted") is True,
        payouts_enabled=account.get("payouts_enabled") is True,
        transfers_active=capabilities.get("transfers") == "active",
        currently_due=[str(x) for x in requirements.get("currently_due") or []],
        past_due=[str(x) for x in requirements.get("past_due") or []],
        disabled_reason=str(requirements.get("disabled_reason") or ""),
    )


def _transfer(obj) -> Transfer:
    data = _as_dict(obj)
    destination = data.get("destination")
    if isinstance(destination, dict):
        destination = destination.get("id")
    reversals = (data.get("reversals") or {}).get("data") or []
    return Transfer(id=data["id"], amount=int(data["amount"]), amount_reversed=int(data.get("amount_reversed") or 0),
                    currency=str(data.get("currency") or ""), destination=str(destination or ""),
                    transfer_group=str(data.get("transfer_group") or ""), metadata=dict(data.get("metadata") or {}),
                    reversals=[dict(r) for r in reversals])


def create_express_account(*, email: str, broker_id: str) -> AccountState:
    """An Express account (US, `transfers` capability). The idempotency key is the broker's id:
    a retried call returns the same account."""
    params = {"type": "express", "country": "US", "email": email,
              "capabilities": {"transfers": {"requested": True}}, "metadata": {"broker_id": broker_id}}
    account = _call("account create", get_client().v1.accounts.create, params,
                    {"idempotency_key": f"connect-account-{broker_id}"})
    return account_state(_as_dict(account))


def retrieve_account(account_id: str) -> AccountState:
    return account_state(_as_dict(_call("account retrieve", get_client().v1.accounts.retrieve, account_id)))


def create_account_link(*, account_id: str, refresh_url: str, return_url: str) -> str:
    """The URL of a single-use onboarding link (expires after a few minutes)."""
    link = _call("account link create", get_client().v1.account_links.create,
                 {"account": account_id, "type": "account_onboarding", "refresh_url": refresh_url,
                  "return_url": return_url})
    return str(link["url"])


def create_transfer(*, amount: int, destination: str, transfer_group: str, metadata: dict,
                    idempotency_key: str, currency: str = "usd") -> Transfer:
    params = {"amount": amount, "currency": currency, "destination": destination, "transfer_group": transfer_group,
              "metadata": {str(k): str(v) for k, v in metadata.items()}}
    return _transfer(_call("transfer create", get_client().v1.transfers.create, params,
                           {"idempotency_key": idempotency_key}))


def find_transfers(*, transfer_group: str) -> list[Transfer]:
    """Transfers already made for a group (our payout id): what to look for after a timeout."""
    page = _call("transfer list", get_client().v1.transfers.list, {"transfer_group": transfer_group, "limit": 10})
    return [_transfer(t) for t in page.data]


def retrieve_transfer(transfer_id: str) -> Transfer:
    return _transfer(_call("transfer retrieve", get_client().v1.transfers.retrieve, transfer_id))


def create_transfer_reversal(*, transfer_id: str, amount: int, idempotency_key: str, metadata: dict) -> dict:
    reversal = _call("transfer reversal create", get_client().v1.transfers.reversals.create, transfer_id,
                     {"amount": amount, "metadata": {str(k): str(v) for k, v in metadata.items()}},
                     {"idempotency_key": idempotency_key})
    return _as_dict(reversal)


def available_balance(currency: str = "usd") -> int:
    balance = _as_dict(_call("balance retrieve", get_client().v1.balance.retrieve))
    return sum(int(row.get("amount") or 0) for row in balance.get("available") or []
               if row.get("currency") == currency)
