"""Broker accounts: life cycle, revenue share, self-service settings, portal password and login.
(API keys: keys.py; admin accounts and logins: admins.py.)

Broker life cycle: PENDING -> ACTIVE (approve) -> SUSPENDED (suspend) -> ACTIVE (approve again);
any -> INACTIVE (deactivate); an INACTIVE broker can be approved again. Anything else is a 409.
Every change is one transaction with the broker row locked, and one activity-log entry.
"""

from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_log
from tradeline.brokers import emails
from tradeline.brokers.locks import broker_lock
from tradeline.brokers.models import Broker, BrokerStatus
from tradeline.brokers.services.keys import broker_keys_rotate
from tradeline.brokers.validators import clean_decimal, invalid_field
from tradeline.core.errors import Conflict, ValidationFailed

BROKER_SELF_FIELDS = frozenset(
    {"name", "business_name", "phone", "address", "website", "markup_type", "markup_percent", "markup_fixed",
     "allowed_origins"}
)
BROKER_ADMIN_FIELDS = BROKER_SELF_FIELDS | {"email", "notes"}


def clean_share(value: Any) -> Decimal:
    share = clean_decimal("revenue_share_percent", value, places=2)
    low, high = Decimal(settings.BROKER_SHARE_MIN), Decimal(settings.BROKER_SHARE_MAX)
    if not low <= share <= high:
        raise ValidationFailed(
            f"The revenue share must be between {low} and {high} percent.",
            code="SHARE_OUT_OF_RANGE",
            details=[{"field": "revenue_share_percent", "message": f"must be between {low} and {high}",
                      "type": "share_out_of_range", "min": str(low), "max": str(high)}],
        )
    return share


def _clean_fields(fields: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """Who may change what is a business rule (here); each value's shape is the model's (clean_values)."""
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ValidationFailed(
            "These fields cannot be changed here: " + ", ".join(unknown) + ".",
            code="FIELD_NOT_ALLOWED",
            details=[{"field": name, "message": "not allowed", "type": "field_not_allowed"} for name in unknown],
        )
    return Broker.clean_values(fields)


# ---------------------------------------------------------------- brokers

@transaction.atomic
def broker_create(*, name: str, email: str, business_name: str = "", website: str = "", phone: str = "",
                  revenue_share_percent=None, actor_user=None) -> Broker:
    """A new PENDING broker (no keys yet; see broker_onboard)."""
    share = clean_share(settings.BROKER_SHARE_DEFAULT if revenue_share_percent is None else revenue_share_percent)
    clean = _clean_fields(
        {"name": name, "email": email, "business_name": business_name, "website": website, "phone": phone},
        BROKER_ADMIN_FIELDS,
    )
    if Broker.objects.filter(email__iexact=clean["email"]).exists():
        raise Conflict("A broker with this email already exists.", code="BROKER_EMAIL_TAKEN",
                       details=[{"field": "email", "message": "already registered", "type": "email_taken"}])
    try:
        with transaction.atomic():
            broker = Broker.objects.create(status=BrokerStatus.PENDING, revenue_share_percent=share, **clean)
    except IntegrityError:
        raise Conflict("A broker with this email already exists.", code="BROKER_EMAIL_TAKEN") from None
    activity_log(action="broker.created", entity=broker, actor_user=actor_user, broker=broker,
                 metadata={"revenue_share_percent": str(share)})
    return broker


@transaction.atomic
def broker_onboard(*, name: str, email: str, business_name: str = "", website: str = "", phone: str = "",
                   revenue_share_percent=None, active: bool = False, actor_user=None) -> tuple[Broker, dict[str, str]]:
    """Create a broker with both keys (plaintext returned once), optionally approved at once."""
    broker = broker_create(name=name, email=email, business_name=business_name, website=website, phone=phone,
                           revenue_share_percent=revenue_share_percent, actor_user=actor_user)
    issued = broker_keys_rotate(broker_id=broker.pk, actor_user=actor_user)
    if active:
        broker = broker_approve(broker_id=broker.pk, actor_user=actor_user,
                                publishable_key=issued.get("publishable_key"))
    return broker, issued


def _transition(broker_id, *, to: str, allowed_from: set[str], action: str, actor_user, reason: str = "") -> Broker:
    broker = broker_lock(broker_id)
    if broker.status not in allowed_from:
        raise Conflict(
            f"A {broker.status} broker cannot become {to}.",
            code="INVALID_BROKER_TRANSITION",
            details={"status": broker.status, "to": to},
        )
    previous = broker.status
    broker.status = to
    update = ["status", "updated_at"]
    if to == BrokerStatus.ACTIVE:
        broker.approved_at = timezone.now()
        broker.approved_by = actor_user if getattr(actor_user, "pk", None) else None
        update += ["approved_at", "approved_by"]
    broker.save(update_fields=update)
    metadata = {"from": previous, "to": to}
    if reason:
        metadata["reason"] = reason[:500]
    activity_log(action=action, entity=broker, actor_user=actor_user, broker=broker, metadata=metadata)
    return broker


@transaction.atomic
def broker_approve(*, broker_id, actor_user=None, publishable_key: str | None = None) -> Broker:
    """-> ACTIVE. The first approval sends the welcome email with the embed code (with the key when
    the caller has just issued it)."""
    first = not Broker.objects.filter(pk=broker_id, approved_at__isnull=False).exists()
    broker = _transition(broker_id, to=BrokerStatus.ACTIVE, action="broker.approved", actor_user=actor_user,
                         allowed_from={BrokerStatus.PENDING, BrokerStatus.SUSPENDED, BrokerStatus.INACTIVE})
    if first:
        transaction.on_commit(partial(emails.send_welcome, broker=broker, publishable_key=publishable_key))
    return broker


@transaction.atomic
def broker_suspend(*, broker_id, actor_user=None, reason: str = "") -> Broker:
    return _transition(broker_id, to=BrokerStatus.SUSPENDED, action="broker.suspended", actor_user=actor_user,
                       allowed_from={BrokerStatus.ACTIVE}, reason=reason)


@transaction.atomic
def broker_deactivate(*, broker_id, actor_user=None, reason: str = "") -> Broker:
    return _transition(broker_id, to=BrokerStatus.INACTIVE, action="broker.deactivated", actor_user=actor_user,
                       allowed_from={BrokerStatus.PENDING, BrokerStatus.ACTIVE, BrokerStatus.SUSPENDED}, reason=reason)


_STATUS_ACTIONS = {
    BrokerStatus.ACTIVE: broker_approve,
    BrokerStatus.SUSPENDED: broker_suspend,
    BrokerStatus.INACTIVE: broker_deactivate,
}


@transaction.atomic
def broker_set_share(*, broker_id, percent, actor_user=None) -> Broker:
    share = clean_share(percent)
    broker = broker_lock(broker_id)
    previous = broker.revenue_share_percent
    if previous != share:
        broker.revenue_share_percent = share
        broker.save(update_fields=["revenue_share_percent", "updated_at"])
    activity_log(action="broker.share_set", entity=broker, actor_user=actor_user, broker=broker,
                 metadata={"from": str(previous), "to": str(share)})
    return broker


def _apply(broker: Broker, clean: dict[str, Any]) -> dict[str, list[str]]:
    changes = {}
    for name, value in clean.items():
        before = getattr(broker, name)
        if before != value:
            changes[name] = [str(before), str(value)] if name not in ("notes",) else ["…", "…"]
            setattr(broker, name, value)
    if changes:
        broker.save(update_fields=[*clean.keys(), "updated_at"])
    return changes


@transaction.atomic
def broker_update_settings(*, broker: Broker, **fields) -> Broker:
    """The broker's own settings: profile, markup, allowed origins. Never share, status or email."""
    clean = _clean_fields(fields, BROKER_SELF_FIELDS)
    locked = broker_lock(broker.pk)
    changes = _apply(locked, clean)
    if changes:
        activity_log(action="broker.settings_updated", entity=locked, actor_type=ActorType.BROKER, broker=locked,
                     metadata={"changes": changes})
    return locked


@transaction.atomic
def broker_admin_update(*, broker_id, actor_user=None, revenue_share_percent=None, status: str | None = None,
                        **fields) -> Broker:
    """An admin's PATCH: profile/markup fields, the share, and a status change (through the state machine)."""
    clean = _clean_fields(fields, BROKER_ADMIN_FIELDS)
    if status is not None and status not in _STATUS_ACTIONS:
        raise invalid_field("status", "status must be ACTIVE, SUSPENDED or INACTIVE.")
    share = clean_share(revenue_share_percent) if revenue_share_percent is not None else None
    broker = broker_lock(broker_id)
    if "email" in clean and Broker.objects.filter(email__iexact=clean["email"]).exclude(pk=broker.pk).exists():
        raise Conflict("A broker with this email already exists.", code="BROKER_EMAIL_TAKEN")
    changes = _apply(broker, clean)
    if changes:
        activity_log(action="broker.profile_updated", entity=broker, actor_user=actor_user, broker=broker,
                     metadata={"changes": changes})
    if share is not None:
        broker = broker_set_share(broker_id=broker.pk, percent=share, actor_user=actor_user)
    if status is not None and status != broker.status:
        broker = _STATUS_ACTIONS[status](broker_id=broker.pk, actor_user=actor_user)
    return broker


# ---------------------------------------------------------------- portal password

def password_check_strength(password: Any, user=None) -> str:
    if not isinstance(password, str) or not password:
        raise invalid_field("password", "A password is required.")
    if len(password) > 256:
        raise invalid_field("password", "The password is longer than 256 characters.")
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            "The password is too weak.", code="WEAK_PASSWORD",
            details=[{"field": "password", "message": message, "type": "weak_password"} for message in exc.messages],
        ) from None
    return password


@transaction.atomic
def broker_set_password(*, broker_id, password: str, actor_user=None) -> Broker:
    password_check_strength(password)
    broker = broker_lock(broker_id)
    broker.password = make_password(password)
    broker.save(update_fields=["password", "updated_at"])
    activity_log(action="broker.password_set", entity=broker, actor_user=actor_user, broker=broker)
    return broker


def broker_authenticate(*, email: str, password: str) -> Broker | None:
    """Portal login: the broker (PENDING, ACTIVE or SUSPENDED; the caller shows its status), or None.

    INACTIVE brokers and brokers without a portal password cannot log in. Runs the password hasher
    even when the email is unknown, so timing does not reveal which emails exist.
    """
    if not isinstance(email, str) or not isinstance(password, str) or not password or len(password) > 256:
        return None
    broker = Broker.objects.filter(email__iexact=email.strip()).first()
    if broker is None or not broker.password:
        make_password(password)
        return None
    if not check_password(password, broker.password):
        return None
    if broker.status == BrokerStatus.INACTIVE:
        return None
    return broker
