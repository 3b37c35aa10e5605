"""Admin accounts and logins: create an admin, log in (bearer token, rate limited), log out."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from tradeline.audit.services import activity_log
from tradeline.brokers import keys, twofactor
from tradeline.brokers.auth import admin_role, issue_admin_token
from tradeline.brokers.models import AdminProfile, AdminRole, AdminToken
from tradeline.brokers.services.accounts import password_check_strength
from tradeline.brokers.validators import clean_email, invalid_field
from tradeline.core import ratelimit
from tradeline.core.errors import Conflict, NotAuthenticated, PermissionDenied


@transaction.atomic
def admin_create(*, email: str, password: str, role: str = AdminRole.STAFF, actor_user=None):
    """A Django user (username = email) with an AdminProfile. SUPER_ADMIN is also a Django superuser."""
    email = clean_email(email)
    if role not in AdminRole.values:
        raise invalid_field("role", "role must be one of " + ", ".join(AdminRole.values) + ".")
    user_model = get_user_model()
    password_check_strength(password, user_model(username=email, email=email))
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


def admin_login(*, email: str, password: str, ip: str | None, otp_code: str | None = None) -> AdminLogin:
    """Check the credentials and issue a bearer token (ADMIN_TOKEN_TTL_SECONDS).

    Failed attempts count per IP and per email (RATE_LIMIT_LOGIN); once either is used up,
    every attempt gets 429 until the window ends, right or wrong password. An admin who must use
    two-factor sign-in gets the token only with a valid `otp_code`, or else a 401
    TWO_FACTOR_REQUIRED carrying a challenge for admin_login_second_step.
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
    if twofactor.admin_requires_2fa(user):
        if not twofactor.admin_has_2fa(user):
            raise PermissionDenied("Two-factor sign-in is required: set up an authenticator in the admin (/admin/) first.",
                                   code="TWO_FACTOR_ENROLMENT_REQUIRED")
        if not otp_code:
            raise NotAuthenticated("Enter the code from your authenticator app (or a recovery code).",
                                   code="TWO_FACTOR_REQUIRED",
                                   details={"challenge": twofactor.login_challenge_issue(user)})
        twofactor.check_second_factor(user=user, code=otp_code, ip=ip)
    return _issue_login(user)


def admin_login_second_step(*, challenge: str, code: str, ip: str | None) -> AdminLogin:
    """The second step of the API login: the challenge from the first step and a TOTP or recovery code."""
    user = get_user_model().objects.filter(pk=twofactor.login_challenge_user_id(challenge)).first()
    if user is None or admin_role(user) is None:
        raise NotAuthenticated("The sign-in challenge is invalid.", code="INVALID_CHALLENGE")
    twofactor.check_second_factor(user=user, code=code, ip=ip)
    return _issue_login(user)


def _issue_login(user) -> AdminLogin:
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
