"""Authentication for the API (django-ninja auth callables).

- `BrokerKeyAuth(publishable_ok=...)`: header `x-api-key` with a broker key. Publishable keys
  (`tlm_pk_`) are only accepted where `publishable_ok=True` (catalog, checkout, widget analytics).
  Returns the Broker; sets `request.broker` and `request.api_key_kind`.
- `AdminTokenAuth(write=...)`: `Authorization: Bearer tlm_at_...`. SUPPORT may only read.
  Returns the User; sets `request.admin_user` and `request.admin_role`.

Combine them with `auth=[AdminTokenAuth(), BrokerKeyAuth()]`: each returns None when its own
credential is absent, so the next one gets its turn; a present but bad credential is a 401.
"""

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from tradeline.brokers import keys
from tradeline.brokers.models import AdminRole, AdminToken, Broker, BrokerApiKey, BrokerStatus, KeyKind
from tradeline.core import ratelimit
from tradeline.core.cors import origin_allowed
from tradeline.core.errors import NotAuthenticated, PermissionDenied

KEY_CACHE_SECONDS = 60
LAST_USED_RESOLUTION_SECONDS = 3600
WRITE_ROLES = {AdminRole.SUPER_ADMIN, AdminRole.ADMIN, AdminRole.STAFF}

_INACTIVE_CODES = {
    BrokerStatus.PENDING: ("BROKER_PENDING", "This broker account is waiting for approval."),
    BrokerStatus.SUSPENDED: ("BROKER_SUSPENDED", "This broker account is suspended."),
    BrokerStatus.INACTIVE: ("BROKER_INACTIVE", "This broker account is inactive."),
}


def key_cache_key(prefix: str) -> str:
    return f"apikey:{prefix}"


def forget_key(prefix: str) -> None:
    """Mark a revoked key dead in the cache (call on revoke/rotate, after the transaction commits).

    A tombstone rather than a delete: a request that read the row just before the revoke committed
    uses `cache.add`, so it cannot put the live entry back. Prefixes are never revived, so the
    tombstone is always right; after it expires the database says "revoked" anyway.
    """
    cache.set(key_cache_key(prefix), {}, KEY_CACHE_SECONDS * 2)


def _load_key(prefix: str) -> dict | None:
    cached = cache.get(key_cache_key(prefix))
    if cached is not None:
        return cached or None
    row = (
        BrokerApiKey.objects.filter(prefix=prefix)
        .values("key_hash", "broker_id", "kind", "revoked_at")
        .first()
    )
    entry = (
        {"key_hash": row["key_hash"], "broker_id": str(row["broker_id"]), "kind": row["kind"]}
        if row and row["revoked_at"] is None
        else {}
    )
    cache.add(key_cache_key(prefix), entry, KEY_CACHE_SECONDS)
    return entry or None


def _touch_key(prefix: str) -> None:
    """Record `last_used_at` at most once per hour per key (not a write per request)."""
    if cache.add(f"apikey-used:{prefix}", 1, LAST_USED_RESOLUTION_SECONDS):
        BrokerApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True).update(last_used_at=timezone.now())


def broker_for_key(raw_key: str) -> tuple[Broker, str] | None:
    prefix = keys.split_prefix(raw_key)
    if prefix is None or prefix.startswith(keys.ADMIN_TOKEN_PREFIX):
        return None
    entry = _load_key(prefix)
    if entry is None or not keys.matches(raw_key, entry["key_hash"]):
        return None
    broker = Broker.objects.filter(pk=entry["broker_id"]).first()
    if broker is None:
        return None
    _touch_key(prefix)
    return broker, entry["kind"]


def require_active(broker: Broker) -> None:
    if broker.status != BrokerStatus.ACTIVE:
        code, message = _INACTIVE_CODES[broker.status]
        raise PermissionDenied(message, code=code)


def public_key_rate_limit(request: HttpRequest, *, scope: str) -> None:
    """The rate limit of the endpoints a widget calls with its publishable key: RATE_LIMIT_CATALOG
    per presented key prefix (and client address), counted under `scope`."""
    ratelimit.enforce(request, scope=scope, rule=settings.RATE_LIMIT_CATALOG,
                      identity=keys.split_prefix(request.headers.get("x-api-key", "").strip()))


class BrokerKeyAuth:
    openapi_type = "apiKey"
    openapi_in = "header"
    openapi_name = "x-api-key"
    # Read by django-ninja's OpenAPI generator (securitySchemes + per-operation security).
    openapi_security_schema = {
        "type": "apiKey", "in": "header", "name": "x-api-key",
        "description": "Broker key: tlm_sk_... (secret) or, where allowed, tlm_pk_... (publishable).",
    }

    def __init__(self, *, publishable_ok: bool = False, require_active_broker: bool = True):
        self.publishable_ok = publishable_ok
        self.require_active_broker = require_active_broker

    def __call__(self, request: HttpRequest):
        raw = request.headers.get("x-api-key")
        if not raw:
            return None
        found = broker_for_key(raw.strip())
        if found is None:
            raise NotAuthenticated("The API key is invalid or has been revoked.", code="INVALID_API_KEY")
        broker, kind = found
        if kind == KeyKind.PUBLISHABLE and not self.publishable_ok:
            raise PermissionDenied(
                "This endpoint needs the secret key (tlm_sk_...); a publishable key is not enough.",
                code="SECRET_KEY_REQUIRED",
            )
        if self.require_active_broker:
            require_active(broker)
        origin = request.headers.get("Origin")
        if kind == KeyKind.PUBLISHABLE and origin:
            if not origin_allowed(broker, origin):
                raise PermissionDenied(
                    "This website is not allowed to use this broker's key; add it to the broker's allowed origins.",
                    code="CORS_ORIGIN_NOT_ALLOWED",
                    details={"origin": origin[:200]},
                )
            request.cors_allowed_origin = origin
        request.broker = broker
        request.api_key_kind = kind
        return broker


def issue_admin_token(user, ttl_seconds: int) -> tuple[str, AdminToken]:
    key, prefix, key_hash = keys.new_key(keys.ADMIN_TOKEN_PREFIX)
    token = AdminToken.objects.create(
        user=user, prefix=prefix, key_hash=key_hash, expires_at=timezone.now() + timedelta(seconds=ttl_seconds)
    )
    return key, token


def admin_role(user) -> str | None:
    if not user.is_active:
        return None
    profile = getattr(user, "admin_profile", None)
    if profile is not None:
        return profile.role
    if user.is_superuser:
        return AdminRole.SUPER_ADMIN
    return None


class AdminTokenAuth:
    openapi_type = "http"
    openapi_scheme = "bearer"
    openapi_security_schema = {
        "type": "http", "scheme": "bearer",
        "description": "Admin token from POST /api/admin/auth/login (tlm_at_...).",
    }

    def __init__(self, *, write: bool = False):
        self.write = write

    def __call__(self, request: HttpRequest):
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("bearer "):
            return None
        raw = header[7:].strip()
        prefix = keys.split_prefix(raw)
        if prefix is None or not prefix.startswith(keys.ADMIN_TOKEN_PREFIX):
            raise NotAuthenticated("The bearer token is invalid.", code="INVALID_TOKEN")
        token = AdminToken.objects.select_related("user", "user__admin_profile").filter(prefix=prefix).first()
        if token is None or token.revoked_at is not None or not keys.matches(raw, token.key_hash):
            raise NotAuthenticated("The bearer token is invalid.", code="INVALID_TOKEN")
        if token.expires_at <= timezone.now():
            raise NotAuthenticated("The bearer token has expired; log in again.", code="TOKEN_EXPIRED")
        role = admin_role(token.user)
        if role is None:
            raise PermissionDenied("This user is not an administrator.", code="NOT_ADMIN")
        if self.write and role not in WRITE_ROLES:
            raise PermissionDenied("Your role may only read.", code="READ_ONLY_ROLE")
        request.admin_user = token.user
        request.admin_role = role
        return token.user
