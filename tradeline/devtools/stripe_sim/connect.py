"""Stripe Connect in the local Stripe server: accounts, account links, transfers, reversals, balance.

Shaped after the pinned SDK (API 2026-10-28): `stripe/_account.py`, `_account_link.py`,
`_transfer.py`, `_transfer_reversal.py`, `_balance.py` for the objects and `stripe/params/` for the
create parameters (an unknown parameter is a 400 `parameter_unknown`, as Stripe answers).

What it models:
- `POST /v1/accounts` (type express, capabilities[transfers][requested]): a new account has its
  onboarding requirements `currently_due`, `details_submitted` false, `payouts_enabled` false.
- `POST /v1/account_links` (type account_onboarding): a single-use link (5 minutes) to the hosted
  onboarding page (connect_pages.py), which completes the account with test data or leaves
  requirements due; each change emits `account.updated` with `account` set, as Connect events have.
- `POST /v1/transfers`: moves the amount from the platform's available balance to the account;
  refused with `balance_insufficient` when the balance is too low and with
  `insufficient_capabilities_for_transfer` when the account's `transfers` capability is not active.
- `POST /v1/transfers/{id}/reversals`: gives part (or the rest) of a transfer back to the platform.
- `GET /v1/balance`, `GET /v1/transfers[?transfer_group=&destination=]`, `GET /v1/accounts/{id}`.

Every operation runs under the shared state lock and returns (status, body, events); events are
registered in the server's event log so the usual deliverer signs and sends them.
"""

import copy
import re
import threading
import time

from tradeline.devtools.stripe_sim import objects as o
from tradeline.devtools.stripe_sim.errors import SimError, missing

_ID = r"([A-Za-z0-9_]+)"
LINK_TTL_SECONDS = 300
DEFAULT_BALANCE = 1_000_000_000  # $10,000,000.00 available to transfer
ONBOARDING_FIELDS = [
    "business_profile.mcc", "business_profile.url", "business_type", "external_account",
    "individual.address.city", "individual.address.line1", "individual.address.postal_code",
    "individual.address.state", "individual.dob.day", "individual.dob.month", "individual.dob.year",
    "individual.email", "individual.first_name", "individual.last_name", "individual.phone",
    "individual.ssn_last_4", "tos_acceptance.date", "tos_acceptance.ip",
]
INSUFFICIENT_FUNDS = ("You have insufficient available funds in your Stripe account. Try adding funds directly to "
                      "your available balance by creating Charges using the 4000000000000077 test card.")
NO_TRANSFERS = ("Your destination account needs to have at least one of the following capabilities enabled: "
                "transfers, crypto_transfers, legacy_payments")


def _check_params(params: dict, allowed: set[str]) -> None:
    for name in params:
        if name not in allowed:
            raise SimError(400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name)


def _required(params: dict, name: str) -> str:
    value = params.get(name)
    if value in (None, ""):
        raise SimError(400, f"Missing required param: {name}.", code="parameter_missing", param=name)
    if not isinstance(value, str):
        raise SimError(400, f"Invalid string: {name}", param=name)
    return value


def _requirements(currently_due: list[str], *, past_due: bool = False) -> dict:
    due = sorted(currently_due)
    disabled = "requirements.past_due" if due else None  # what a new Express account shows too
    return {"alternatives": [], "current_deadline": None, "currently_due": due, "disabled_reason": disabled,
            "errors": [], "eventually_due": due, "past_due": due if past_due else [], "pending_verification": []}


def account_object(*, email: str | None, metadata: dict, business_type: str | None, country: str) -> dict:
    account_id = o.new_id("acct_", 16)
    return {
        "id": account_id, "object": "account",
        "business_profile": {"annual_revenue": None, "estimated_worker_count": None, "mcc": None,
                             "name": None, "product_description": None, "support_address": None,
                             "support_email": None, "support_phone": None, "support_url": None, "url": None},
        "business_type": business_type,
        "capabilities": {"transfers": "inactive"},
        "charges_enabled": False,
        "controller": {"fees": {"payer": "application"}, "is_controller": True,
                       "losses": {"payments": "application"}, "requirement_collection": "stripe",
                       "stripe_dashboard": {"type": "express"}, "type": "application"},
        "country": country, "created": o.now(), "default_currency": "usd", "details_submitted": False,
        "email": email,
        "external_accounts": o.list_object([], f"/v1/accounts/{account_id}/external_accounts") | {"total_count": 0},
        "future_requirements": _requirements([]) | {"disabled_reason": None},
        "metadata": metadata, "payouts_enabled": False,
        "requirements": _requirements(ONBOARDING_FIELDS),
        "settings": {"payouts": {"debit_negative_balances": True, "schedule": {"delay_days": 2, "interval": "daily"},
                                 "statement_descriptor": None}},
        "tos_acceptance": {"date": None},
        "type": "express",
    }


class ConnectState:
    """Connect objects of one local Stripe server; shares the server's lock and event log."""

    def __init__(self, state) -> None:
        self.state = state
        self.lock = state.lock
        self._fault_lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.accounts: dict[str, dict] = {}
            self.links: dict[str, dict] = {}  # token -> {account, refresh_url, return_url, expires_at, used}
            self.transfers: dict[str, dict] = {}
            self.available = DEFAULT_BALANCE
        with self._fault_lock:
            self.slow_after: list[dict] = []  # {"path", "delay_ms", "count"}: respond late, after the work

    # ---- events ----------------------------------------------------------------------------

    def _event(self, event_type: str, obj: dict, ctx: dict | None, *, account: str | None = None,
               previous: dict | None = None) -> dict:
        ctx = ctx or {}
        event = o.event_object(event_type, copy.deepcopy(obj), request_id=ctx.get("request_id"),
                               idempotency_key=ctx.get("idempotency_key"))
        if previous is not None:
            event["data"]["previous_attributes"] = previous
        if account:
            event = {"id": event["id"], "object": "event", "account": account, **{
                k: v for k, v in event.items() if k not in ("id", "object")}}
        state = self.state
        state.events.append(event)
        state.events_by_id[event["id"]] = event
        state.deliveries[event["id"]] = []
        return event

    # ---- accounts --------------------------------------------------------------------------

    def account(self, account_id: str) -> dict:
        obj = self.accounts.get(account_id)
        if obj is None:
            raise SimError(404, f"No such account: '{account_id}'", code="resource_missing", param="account")
        return obj

    def create_account(self, params: dict, ctx: dict) -> dict:
        _check_params(params, {"type", "country", "email", "capabilities", "business_type", "metadata",
                               "business_profile", "controller", "default_currency", "settings", "tos_acceptance"})
        if params.get("type") not in (None, "express", "custom", "standard"):
            raise SimError(400, "Invalid type: must be one of custom, express, or standard", param="type")
        if params.get("type") != "express":  # Stripe also accepts `controller` instead; we never send it
            raise SimError(400, "The local Stripe server creates Express accounts only (type=express).", param="type")
        capabilities = params.get("capabilities") or {}
        requested = [name for name, value in capabilities.items()
                     if isinstance(value, dict) and str(value.get("requested")).lower() == "true"] \
            if isinstance(capabilities, dict) else []
        if not requested:
            raise SimError(400, "You must request at least one capability (e.g. capabilities[transfers][requested]"
                           "=true) when creating an Express account.", param="capabilities")
        unknown = [name for name in requested if name not in ("transfers", "card_payments")]
        if unknown:
            raise SimError(400, f"Invalid capability: {unknown[0]}", param=f"capabilities[{unknown[0]}]")
        country = str(params.get("country") or "US").upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise SimError(400, f"Country '{country}' is unknown.", param="country")
        business_type = params.get("business_type")
        if business_type not in (None, "individual", "company", "non_profit", "government_entity"):
            raise SimError(400, "Invalid business_type.", param="business_type")
        email = o.parse_email(params.get("email"), "email")
        obj = account_object(email=email, metadata=o.parse_metadata(params.get("metadata"), "metadata"),
                             business_type=business_type, country=country)
        obj["capabilities"] = {name: "inactive" for name in sorted(requested)}
        with self.lock:
            self.accounts[obj["id"]] = obj
            return copy.deepcopy(obj)

    def _change(self, account_id: str, changes: dict, ctx: dict | None = None) -> list[dict]:
        """Apply `changes` (top-level fields) to an account; one account.updated with previous_attributes."""
        with self.lock:
            obj = self.account(account_id)
            previous = {k: copy.deepcopy(obj[k]) for k in changes if obj.get(k) != changes[k]}
            if not previous:
                return []
            obj.update(copy.deepcopy(changes))
            return [self._event("account.updated", obj, ctx, account=account_id, previous=previous)]

    def complete_onboarding(self, account_id: str) -> list[dict]:
        with self.lock:
            obj = self.account(account_id)
            caps = {name: "active" for name in obj["capabilities"]}
            return self._change(account_id, {
                "business_type": obj["business_type"] or "individual", "details_submitted": True,
                "payouts_enabled": True, "charges_enabled": "card_payments" in caps, "capabilities": caps,
                "requirements": _requirements([]), "tos_acceptance": {"date": o.now(), "ip": "127.0.0.1",
                                                                      "user_agent": "stripe-sim"},
                "external_accounts": obj["external_accounts"] | {"total_count": 1},
            })

    def leave_requirements_due(self, account_id: str, due: list[str] | None = None) -> list[dict]:
        """Details submitted, but Stripe still needs something (the bank account by default)."""
        with self.lock:
            obj = self.account(account_id)
            return self._change(account_id, {
                "business_type": obj["business_type"] or "individual", "details_submitted": True,
                "payouts_enabled": False, "capabilities": {name: "inactive" for name in obj["capabilities"]},
                "requirements": _requirements(due or ["external_account"]),
            })

    def restrict(self, account_id: str, due: list[str] | None = None) -> list[dict]:
        """Requirements went past due (e.g. identity verification): payouts and transfers stop."""
        with self.lock:
            obj = self.account(account_id)
            return self._change(account_id, {
                "payouts_enabled": False, "capabilities": {name: "inactive" for name in obj["capabilities"]},
                "requirements": _requirements(due or ["individual.verification.document"], past_due=True),
            })

    def create_link(self, params: dict, base_url: str) -> dict:
        _check_params(params, {"account", "type", "refresh_url", "return_url", "collect", "collection_options",
                               "expand"})
        account_id = _required(params, "account")
        link_type = _required(params, "type")
        if link_type not in ("account_onboarding", "account_update"):
            raise SimError(400, "Invalid type: must be one of account_onboarding or account_update", param="type")
        refresh_url = o.parse_url(_required(params, "refresh_url"), "refresh_url")
        return_url = o.parse_url(_required(params, "return_url"), "return_url")
        with self.lock:
            account = self.account(account_id)
            if link_type == "account_update" and account["type"] != "custom":
                raise SimError(400, "You cannot create `account_update` type Account Links for this account.",
                               param="type")
            token = o.new_id("", 24)
            created = o.now()
            self.links[token] = {"account": account_id, "refresh_url": refresh_url, "return_url": return_url,
                                 "expires_at": created + LINK_TTL_SECONDS, "used": False}
            return {"object": "account_link", "created": created, "expires_at": created + LINK_TTL_SECONDS,
                    "url": f"{base_url}/connect/onboarding/{token}"}

    def open_link(self, token: str) -> dict | None:
        """The link's record if it can still be used (not expired, not used), else None."""
        with self.lock:
            link = self.links.get(token)
            if link is None or link["used"] or link["expires_at"] < o.now():
                return None
            return dict(link)

    def use_link(self, token: str) -> dict | None:
        with self.lock:
            link = self.open_link(token)
            if link is not None:
                self.links[token]["used"] = True
            return link

    # ---- transfers -------------------------------------------------------------------------

    def transfer(self, transfer_id: str) -> dict:
        obj = self.transfers.get(transfer_id)
        if obj is None:
            raise missing("transfer", transfer_id)
        return obj

    def create_transfer(self, params: dict, ctx: dict) -> tuple[dict, list[dict]]:
        _check_params(params, {"amount", "currency", "destination", "description", "metadata", "transfer_group",
                               "source_transaction", "source_type", "expand"})
        if params.get("amount") in (None, ""):
            raise SimError(400, "Missing required param: amount.", code="parameter_missing", param="amount")
        amount = o.parse_int(params["amount"], "amount", minimum=1, maximum=o.MAX_AMOUNT)
        currency = _required(params, "currency").lower()
        if currency != "usd":
            raise SimError(400, f"Invalid currency: {currency}. The local Stripe server's platform holds USD only.",
                           param="currency")
        destination = _required(params, "destination")
        metadata = o.parse_metadata(params.get("metadata"), "metadata")
        group = params.get("transfer_group")
        with self.lock:
            account = self.accounts.get(destination)
            if account is None:
                raise SimError(400, f"No such destination: '{destination}'", code="resource_missing",
                               param="destination")
            if account["capabilities"].get("transfers") != "active":
                raise SimError(400, NO_TRANSFERS, code="insufficient_capabilities_for_transfer",
                               param="destination")
            if amount > self.available:
                raise SimError(400, INSUFFICIENT_FUNDS, code="balance_insufficient")
            self.available -= amount
            transfer_id = o.new_id("tr_")
            obj = {
                "id": transfer_id, "object": "transfer", "amount": amount, "amount_reversed": 0,
                "balance_transaction": o.new_id("txn_"), "created": o.now(), "currency": currency,
                "description": params.get("description"), "destination": destination,
                "destination_payment": o.new_id("py_"), "livemode": False, "metadata": metadata,
                "reversals": o.list_object([], f"/v1/transfers/{transfer_id}/reversals") | {"total_count": 0},
                "reversed": False, "source_transaction": None, "source_type": "card",
                "transfer_group": group if group else None,
            }
            self.transfers[transfer_id] = obj
            return copy.deepcopy(obj), [self._event("transfer.created", obj, ctx)]

    def list_transfers(self, params: dict) -> list[dict]:
        _check_params(params, {"created", "destination", "ending_before", "expand", "limit", "starting_after",
                               "transfer_group"})
        with self.lock:
            rows = sorted(self.transfers.values(), key=lambda t: t["created"], reverse=True)
            for field in ("transfer_group", "destination"):
                if params.get(field):
                    rows = [t for t in rows if t[field] == params[field]]
            return copy.deepcopy(rows)

    def create_reversal(self, transfer_id: str, params: dict, ctx: dict) -> tuple[dict, list[dict]]:
        _check_params(params, {"amount", "description", "expand", "metadata", "refund_application_fee"})
        metadata = o.parse_metadata(params.get("metadata"), "metadata")
        with self.lock:
            transfer = self.transfer(transfer_id)
            remaining = transfer["amount"] - transfer["amount_reversed"]
            if remaining <= 0:
                raise SimError(400, f"Transfer {transfer_id} has already been fully reversed.", param="amount")
            amount = remaining if params.get("amount") in (None, "") else o.parse_int(
                params["amount"], "amount", minimum=1)
            if amount > remaining:
                raise SimError(400, f"Amount ({amount}) is greater than the unreversed amount ({remaining}) "
                               f"of transfer {transfer_id}.", param="amount")
            reversal = {"id": o.new_id("trr_"), "object": "transfer_reversal", "amount": amount,
                        "balance_transaction": o.new_id("txn_"), "created": o.now(), "currency": transfer["currency"],
                        "destination_payment_refund": o.new_id("pyr_"), "metadata": metadata,
                        "source_refund": None, "transfer": transfer_id}
            transfer["amount_reversed"] += amount
            transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
            transfer["reversals"]["data"].insert(0, reversal)
            transfer["reversals"]["total_count"] += 1
            self.available += amount
            return copy.deepcopy(reversal), [self._event("transfer.reversed", transfer, ctx)]

    def balance(self) -> dict:
        with self.lock:
            available = self.available
        return {"object": "balance", "available": [{"amount": available, "currency": "usd",
                                                    "source_types": {"card": available}}],
                "connect_reserved": [{"amount": 0, "currency": "usd"}], "livemode": False,
                "pending": [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}]}

    # ---- faults: answer late, after the work is done (a timeout that still created the object) ----

    def set_slow_after(self, *, path: str, delay_ms: int, count: int | None) -> None:
        with self._fault_lock:
            self.slow_after.append({"path": path, "delay_ms": int(delay_ms), "count": count})

    def _slow_after(self, path: str) -> int:
        with self._fault_lock:
            for rule in self.slow_after:
                if path.startswith(rule["path"]):
                    if rule["count"] is not None:
                        rule["count"] -= 1
                        if rule["count"] <= 0:
                            self.slow_after.remove(rule)
                    return rule["delay_ms"]
        return 0

    # ---- routing ---------------------------------------------------------------------------

    def route(self, sim, method: str, path: str, params: dict, ctx: dict) -> tuple[int, dict, list[dict]]:
        status, body, events = self._route(sim, method, path, params, ctx)
        delay = self._slow_after(path) if method == "POST" else 0
        if delay:
            time.sleep(delay / 1000)
        return status, body, events

    def _route(self, sim, method: str, path: str, params: dict, ctx: dict) -> tuple[int, dict, list[dict]]:
        m = re.fullmatch
        if path == "/v1/accounts" and method == "POST":
            return 200, self.create_account(params, ctx), []
        if (hit := m(rf"/v1/accounts/{_ID}", path)) and method == "GET":
            _check_params(params, {"expand"})
            with self.lock:
                return 200, copy.deepcopy(self.account(hit[1])), []
        if path == "/v1/account_links" and method == "POST":
            return 200, self.create_link(params, sim.url), []
        if path == "/v1/transfers" and method == "POST":
            return 200, *self.create_transfer(params, ctx)
        if path == "/v1/transfers" and method == "GET":
            rows = self.list_transfers(params)
            limit = o.parse_int(params.get("limit", 10), "limit", minimum=1, maximum=100)
            return 200, o.list_object(rows[:limit], "/v1/transfers", has_more=len(rows) > limit), []
        if (hit := m(rf"/v1/transfers/{_ID}", path)) and method == "GET":
            _check_params(params, {"expand"})
            with self.lock:
                return 200, copy.deepcopy(self.transfer(hit[1])), []
        if (hit := m(rf"/v1/transfers/{_ID}/reversals", path)) and method == "POST":
            return 200, *self.create_reversal(hit[1], params, ctx)
        if (hit := m(rf"/v1/transfers/{_ID}/reversals", path)) and method == "GET":
            with self.lock:
                return 200, copy.deepcopy(self.transfer(hit[1])["reversals"]), []
        if path == "/v1/balance" and method == "GET":
            _check_params(params, {"expand"})
            return 200, self.balance(), []
        raise SimError(404, f"Unrecognized request URL ({method}: {path}).")


def handles(path: str) -> bool:
    """Whether a /v1 path belongs to Connect (routed here instead of the payments API)."""
    return path.startswith(("/v1/accounts", "/v1/account_links", "/v1/transfers", "/v1/balance"))
