"""Broker and admin accounts: life cycle, revenue share, self-service settings, API keys, logins.

Broker life cycle: PENDING -> ACTIVE (approve) -> SUSPENDED (suspend) -> ACTIVE (approve again);
any -> INACTIVE (deactivate); an INACTIVE broker can be approved again. Anything else is a 409.
Every change is one transaction with the broker row locked, and one activity-log entry.
"""

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_log
from tradeline.brokers import keys
from tradeline.brokers.auth import admin_role, forget_key, issue_admin_token
from tradeline.brokers.models import (
    AdminProfile,
    AdminRole,
    AdminToken,
    Broker,
    BrokerApiKey,
    BrokerStatus,
    KeyKind,
    MarkupType,
)
from tradeline.core import ratelimit
from tradeline.core.cors import normalize_origin
from tradeline.core.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from tradeline.core.locks import lock_one
from tradeline.core.money import format_usd

MAX_ALLOWED_ORIGINS = 20
BROKER_SELF_FIELDS = frozenset(
    {"name", "business_name", "phone", "website", "markup_type", "markup_percent", "markup_fixed", "allowed_origins"}
)
BROKER_ADMIN_FIELDS = BROKER_SELF_FIELDS | {"email", "notes"}
_KEY_PREFIXES = {KeyKind.PUBLISHABLE: keys.PUBLISHABLE_PREFIX, KeyKind.SECRET: keys.SECRET_PREFIX}
_KEY_OUT_NAMES = {KeyKind.PUBLISHABLE: "publishable_key", KeyKind.SECRET: "secret_key"}


def _invalid(field: str, message: str, code: str = "VALIDATION_ERROR") -> ValidationFailed:
    return ValidationFailed(message, code=code, details=[{"field": field, "message": message, "type": code.lower()}])


# ---------------------------------------------------------------- validation helpers

def markup_fixed_check(cents: int) -> int:
    """A fixed markup per tradeline: whole cents from 0 to BROKER_MARKUP_FIXED_MAX_CENTS (the one place
    this rule lives; the portal's form and price preview call it too)."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise _invalid("markup_fixed", "markup_fixed is a whole number of cents.")
    ceiling = settings.BROKER_MARKUP_FIXED_MAX_CENTS
    if not 0 <= cents <= ceiling:
        raise _invalid("markup_fixed", f"The fixed markup must be between $0.00 and {format_usd(ceiling)} "
                                       "per tradeline.", "MARKUP_OUT_OF_RANGE")
    return cents


def _clean_text(field: str, value: Any, *, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _invalid(field, f"{field} must be a string.")
    value = value.strip()
    if required and not value:
        raise _invalid(field, f"{field} is required.")
    if len(value) > max_length:
        raise _invalid(field, f"{field} is longer than {max_length} characters.")
    return value


def _clean_email(value: Any, field: str = "email") -> str:
    email = _clean_text(field, value, max_length=254, required=True).lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise _invalid(field, "Enter a valid email address.", "INVALID_EMAIL") from None
    return email


def _clean_website(value: Any) -> str:
    website = _clean_text("website", value, max_length=200)
    if website:
        try:
            URLValidator(schemes=["http", "https"])(website)
        except DjangoValidationError:
            raise _invalid("website", "Enter a full http(s) URL, e.g. https://example.com/.", "INVALID_URL") from None
    return website


def _decimal(field: str, value: Any, *, places: int) -> Decimal:
    if isinstance(value, bool):
        raise _invalid(field, f"{field} must be a number.")
    try:
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError, TypeError):
        raise _invalid(field, f"{field} must be a number.") from None
    if not number.is_finite():
        raise _invalid(field, f"{field} must be a number.")
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise _invalid(field, f"{field} allows at most {places} decimal places.")
    return number


def clean_share(value: Any) -> Decimal:
    share = _decimal("revenue_share_percent", value, places=2)
    low, high = Decimal(settings.BROKER_SHARE_MIN), Decimal(settings.BROKER_SHARE_MAX)
    if not low <= share <= high:
        raise ValidationFailed(
            f"The revenue share must be between {low} and {high} percent.",
            code="SHARE_OUT_OF_RANGE",
            details=[{"field": "revenue_share_percent", "message": f"must be between {low} and {high}",
                      "type": "share_out_of_range", "min": str(low), "max": str(high)}],
        )
    return share


def _clean_origins(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid("allowed_origins", "allowed_origins must be a list of origins like https://shop.example.com.")
    if len(value) > MAX_ALLOWED_ORIGINS:
        raise _invalid("allowed_origins", f"At most {MAX_ALLOWED_ORIGINS} allowed origins.")
    origins: list[str] = []
    for item in value:
        origin = normalize_origin(item) if isinstance(item, str) else None
        if origin is None or _url_path(item) not in ("", "/"):
            raise ValidationFailed(
                "Each allowed origin is scheme://host[:port], e.g. https://shop.example.com.",
                code="INVALID_ORIGIN",
                details=[{"field": "allowed_origins", "message": f"not an origin: {str(item)[:100]}",
                          "type": "invalid_origin"}],
            )
        if origin not in origins:
            origins.append(origin)
    return origins


def _url_path(value: str) -> str:
    """Everything after scheme://host[:port]; an origin has none (a trailing slash is tolerated)."""
    parts = urlsplit(value.strip())
    return parts.path + ("?" + parts.query if parts.query else "") + ("#" + parts.fragment if parts.fragment else "")


def _clean_fields(fields: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ValidationFailed(
            "These fields cannot be changed here: " + ", ".join(unknown) + ".",
            code="FIELD_NOT_ALLOWED",
            details=[{"field": name, "message": "not allowed", "type": "field_not_allowed"} for name in unknown],
        )
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "name":
            clean[name] = _clean_text(name, value, max_length=200, required=True)
        elif name == "business_name":
            clean[name] = _clean_text(name, value, max_length=200)
        elif name == "phone":
            clean[name] = _clean_text(name, value, max_length=40)
        elif name == "notes":
            clean[name] = _clean_text(name, value, max_length=10_000)
        elif name == "email":
            clean[name] = _clean_email(value)
        elif name == "website":
            clean[name] = _clean_website(value)
        elif name == "allowed_origins":
            clean[name] = _clean_origins(value)
        elif name == "markup_type":
            if value not in MarkupType.values:
                raise _invalid(name, "markup_type must be PERCENTAGE or FIXED.")
            clean[name] = str(value)
        elif name == "markup_percent":
            percent = _decimal(name, value, places=3)
            if not Decimal(0) <= percent <= Decimal(100):
                raise _invalid(name, "markup_percent must be between 0 and 100.", "MARKUP_OUT_OF_RANGE")
            clean[name] = percent
        elif name == "markup_fixed":
            clean[name] = markup_fixed_check(value)
    return clean


# ---------------------------------------------------------------- brokers

def _broker_or_404(broker_id) -> Broker:
    try:
        return lock_one(Broker, pk=broker_id)
    except (Broker.DoesNotExist, DjangoValidationError, ValueError):
        raise NotFound("No such broker.", code="BROKER_NOT_FOUND") from None


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
        broker = broker_approve(broker_id=broker.pk, actor_user=actor_user)
    return broker, issued


def _transition(broker_id, *, to: str, allowed_from: set[str], action: str, actor_user, reason: str = "") -> Broker:
    broker = _broker_or_404(broker_id)
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
def broker_approve(*, broker_id, actor_user=None) -> Broker:
    return _transition(broker_id, to=BrokerStatus.ACTIVE, action="broker.approved", actor_user=actor_user,
                       allowed_from={BrokerStatus.PENDING, BrokerStatus.SUSPENDED, BrokerStatus.INACTIVE})


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
    broker = _broker_or_404(broker_id)
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
    locked = _broker_or_404(broker.pk)
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
        raise _invalid("status", "status must be ACTIVE, SUSPENDED or INACTIVE.")
    share = clean_share(revenue_share_percent) if revenue_share_percent is not None else None
    broker = _broker_or_404(broker_id)
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


# ---------------------------------------------------------------- keys

@transaction.atomic
def broker_keys_rotate(*, broker_id, kind: str | None = None, actor_user=None,
                       actor_type: str | None = None) -> dict[str, str]:
    """Replace the live key of `kind` (both kinds when None). Returns the new plaintext keys, shown once."""
    if kind is not None and kind not in KeyKind.values:
        raise _invalid("kind", "kind must be PUBLISHABLE or SECRET.")
    broker = _broker_or_404(broker_id)
    kinds = [kind] if kind else [KeyKind.PUBLISHABLE, KeyKind.SECRET]
    now = timezone.now()
    issued: dict[str, str] = {}
    revoked_prefixes: list[str] = []
    for each in kinds:
        for old in BrokerApiKey.objects.filter(broker=broker, kind=each, revoked_at__isnull=True):
            old.revoked_at = now
            old.save(update_fields=["revoked_at", "updated_at"])
            revoked_prefixes.append(old.prefix)
        plaintext, prefix, key_hash = keys.new_key(_KEY_PREFIXES[each])
        BrokerApiKey.objects.create(broker=broker, kind=each, prefix=prefix, key_hash=key_hash)
        issued[_KEY_OUT_NAMES[each]] = plaintext
    for prefix in revoked_prefixes:
        transaction.on_commit(lambda prefix=prefix: forget_key(prefix))
    activity_log(action="broker.keys_rotated", entity=broker, actor_user=actor_user,
                 actor_type=actor_type or ActorType.SYSTEM, broker=broker,
                 metadata={"kinds": kinds, "revoked": revoked_prefixes})
    return issued


@transaction.atomic
def broker_key_revoke(*, broker_id, key_id, actor_user=None, actor_type: str | None = None) -> BrokerApiKey:
    """Revoke one key of this broker (404 for another broker's key; 409 if already revoked)."""
    broker = _broker_or_404(broker_id)
    try:
        key = BrokerApiKey.objects.select_for_update().get(pk=key_id, broker=broker)
    except (BrokerApiKey.DoesNotExist, DjangoValidationError, ValueError):
        raise NotFound("No such key.", code="KEY_NOT_FOUND") from None
    if key.revoked_at is not None:
        raise Conflict("This key is already revoked.", code="KEY_ALREADY_REVOKED")
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at", "updated_at"])
    transaction.on_commit(lambda: forget_key(key.prefix))
    activity_log(action="broker.key_revoked", entity=broker, actor_user=actor_user,
                 actor_type=actor_type or ActorType.SYSTEM, broker=broker,
                 metadata={"kind": key.kind, "prefix": key.prefix})
    return key


# ---------------------------------------------------------------- portal password

def _check_password_strength(password: Any, user=None) -> str:
    if not isinstance(password, str) or not password:
        raise _invalid("password", "A password is required.")
    if len(password) > 256:
        raise _invalid("password", "The password is longer than 256 characters.")
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
    _check_password_strength(password)
    broker = _broker_or_404(broker_id)
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


# ---------------------------------------------------------------- admins

@transaction.atomic
def admin_create(*, email: str, password: str, role: str = AdminRole.STAFF, actor_user=None):
    """A Django user (username = email) with an AdminProfile. SUPER_ADMIN is also a Django superuser."""
    email = _clean_email(email)
    if role not in AdminRole.values:
        raise _invalid("role", "role must be one of " + ", ".join(AdminRole.values) + ".")
    user_model = get_user_model()
    _check_password_strength(password, user_model(username=email, email=email))
    if user_model.objects.filter(username__iexact=email).exists():
        raise Conflict("An account with this email already exists.", code="ADMIN_EXISTS")
    user = user_model.objects.create_user(
        username=email, email=email, password=password, is_staff=True, is_superuser=role == AdminRole.SUPER_ADMIN
    )
    AdminProfile.objects.create(user=user, role=role)
    activity_log(action="admin.created", entity=user, entity_type="User", actor_user=actor_user,
                 metadata={"role": role})
    return user


class AdminLogin(tuple):
    """(token, expires_at), with `.user` and `.role` for the caller that needs them."""

    user: Any
    role: str

    def __new__(cls, token: str, expires_at: datetime, user, role: str):
        instance = super().__new__(cls, (token, expires_at))
        instance.user, instance.role = user, role
        return instance

    @property
    def token(self) -> str:
        return self[0]

    @property
    def expires_at(self) -> datetime:
        return self[1]


LOGIN_SCOPE = "admin-login"


def admin_login(*, email: str, password: str, ip: str | None) -> AdminLogin:
    """Check the credentials and issue a bearer token (ADMIN_TOKEN_TTL_SECONDS).

    Failed attempts count per IP and per email (RATE_LIMIT_LOGIN); once either is used up,
    every attempt gets 429 until the window ends, right or wrong password.
    """
    rule = settings.RATE_LIMIT_LOGIN
    identity = email.strip().lower() if isinstance(email, str) else ""
    ratelimit.check(None, scope=LOGIN_SCOPE, rule=rule, identity=identity, ip=ip)
    user = None
    if identity and isinstance(password, str) and password and len(password) <= 256:
        user_model = get_user_model()
        candidate = user_model.objects.filter(username__iexact=identity).first() or \
            user_model.objects.filter(email__iexact=identity).order_by("pk").first()
        if candidate is None:
            user_model().set_password(password)  # same work as a real check
        elif candidate.check_password(password) and admin_role(candidate) is not None:
            user = candidate
    if user is None:
        ratelimit.hit(None, scope=LOGIN_SCOPE, rule=rule, identity=identity, ip=ip)
        activity_log(action="admin.login_failed", entity_type="User", metadata={"ip": ip or ""})
        raise NotAuthenticated("The email or password is wrong.", code="INVALID_CREDENTIALS")
    ratelimit.reset(None, scope=LOGIN_SCOPE, rule=rule, identity=identity)
    with transaction.atomic():
        raw, token = issue_admin_token(user, settings.ADMIN_TOKEN_TTL_SECONDS)
        user.last_login = timezone.now()
        user.save(update_fields=["last_login"])
        role = admin_role(user)
        activity_log(action="admin.login", entity=user, entity_type="User", actor_user=user,
                     metadata={"role": role, "token": token.prefix})
    return AdminLogin(raw, token.expires_at, user, role)


@transaction.atomic
def admin_logout(*, raw_token: str) -> None:
    """Revoke the presented bearer token (already revoked or unknown: nothing to do)."""
    prefix = keys.split_prefix(raw_token or "")
    if prefix is None:
        return
    token = AdminToken.objects.select_for_update().filter(prefix=prefix, revoked_at__isnull=True).first()
    if token is None or not keys.matches(raw_token, token.key_hash):
        return
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at", "updated_at"])
    activity_log(action="admin.logout", entity=token.user, entity_type="User", actor_user=token.user,
                 metadata={"token": token.prefix})
