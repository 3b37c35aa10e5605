"""Two-factor sign-in for admins (django-otp): one TOTP device (an authenticator app) and one set of
single-use recovery codes (a static device) per admin.

Required for SUPER_ADMIN and ADMIN when ADMIN_REQUIRE_2FA is true (the default in production).
Used by the Django admin login (tradeline/dashboard/twofactor.py) and by the second step of
`POST /api/admin/auth/login` (services.admin_login / admin_login_second_step).
"""

import secrets
from base64 import b32encode

import segno
from django.conf import settings
from django.core import signing
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tradeline.audit.services import activity_log
from tradeline.brokers.auth import admin_role
from tradeline.brokers.models import AdminRole
from tradeline.core import ratelimit
from tradeline.core.errors import NotAuthenticated, ValidationFailed

ENFORCED_ROLES = {AdminRole.SUPER_ADMIN, AdminRole.ADMIN}
TOTP_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"
CHALLENGE_SALT = "tradeline.admin-2fa-challenge"
SCOPE = "admin-2fa"


def admin_requires_2fa(user) -> bool:
    return bool(settings.ADMIN_REQUIRE_2FA) and admin_role(user) in ENFORCED_ROLES


def admin_has_2fa(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


# ---------------------------------------------------------------- enrolment

@transaction.atomic
def totp_enrol_start(*, user) -> TOTPDevice:
    """An unconfirmed TOTP device with a fresh key (an earlier unconfirmed one is replaced)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def totp_qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as an inline SVG QR code (scanned by the authenticator app)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4)


def totp_secret_text(device: TOTPDevice) -> str:
    """The key in base32, for typing into an app that cannot scan."""
    return b32encode(device.bin_key).decode()


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    # django-otp keeps at most 16 characters: 8 + 6 hex digits (56 bits), single use.
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(3)}" for _ in range(settings.ADMIN_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic
def totp_enrol_confirm(*, user, device_id: int, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the new device with a code from the app; older devices and recovery codes are
    replaced. Returns the device and the new recovery codes (shown once)."""
    device = TOTPDevice.objects.select_for_update().filter(pk=device_id, user=user, confirmed=False).first()
    if device is None or not _clean_code(code) or not device.verify_token(_clean_code(code)):
        raise ValidationFailed("The code does not match; check the app's clock and try again.",
                               code="INVALID_OTP", details=[{"field": "code", "message": "wrong code"}])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    activity_log(action="admin.2fa_enabled", entity=user, entity_type="User", actor_user=user)
    return device, codes


@transaction.atomic
def recovery_codes_regenerate(*, user) -> list[str]:
    codes = _new_recovery_codes(user)
    activity_log(action="admin.2fa_recovery_codes_regenerated", entity=user, entity_type="User", actor_user=user)
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user).count()


@transaction.atomic
def two_factor_reset(*, user, actor_user) -> None:
    """Remove an admin's devices (a SUPER_ADMIN helping someone who lost the phone and the codes)."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    activity_log(action="admin.2fa_reset", entity=user, entity_type="User", actor_user=actor_user)


# ---------------------------------------------------------------- verification

def _clean_code(code) -> str:
    if not isinstance(code, str):
        return ""
    return code.strip().replace(" ", "").lower()[:32]


def second_factor_verify(*, user, code) -> TOTPDevice | StaticDevice | None:
    """The device that accepts `code` (a 6-digit TOTP code or a recovery code), or None.

    A recovery code is deleted when used (single-use). Each device throttles its own failures
    (django-otp's growing delay); a throttled device refuses even a right code.
    """
    code = _clean_code(code)
    if not code:
        return None
    devices = (TOTPDevice.objects.filter(user=user, confirmed=True) if code.isdigit()
               else StaticDevice.objects.filter(user=user, confirmed=True))
    with transaction.atomic():
        for device in devices.select_for_update():
            allowed, _ = device.verify_is_allowed()
            if allowed and device.verify_token(code):
                activity_log(action="admin.2fa_verified", entity=user, entity_type="User", actor_user=user,
                             metadata={"method": "recovery_code" if isinstance(device, StaticDevice) else "totp"})
                return device
    return None


def login_challenge_issue(user) -> str:
    """A short-lived signed ticket saying "this user gave the right password" (API second step)."""
    return signing.dumps({"u": user.pk, "n": secrets.token_hex(8)}, salt=CHALLENGE_SALT, compress=True)


def login_challenge_user_id(challenge) -> int:
    try:
        data = signing.loads(challenge or "", salt=CHALLENGE_SALT, max_age=settings.ADMIN_2FA_CHALLENGE_SECONDS)
    except signing.SignatureExpired:
        raise NotAuthenticated("The sign-in challenge has expired; log in again.", code="CHALLENGE_EXPIRED") from None
    except signing.BadSignature:
        raise NotAuthenticated("The sign-in challenge is invalid.", code="INVALID_CHALLENGE") from None
    return int(data["u"])


def check_second_factor(*, user, code, ip: str | None) -> None:
    """Raise unless `code` is a valid second factor for `user`; failures count per user and IP."""
    rule = settings.RATE_LIMIT_2FA
    identity = f"user:{user.pk}"
    ratelimit.check(None, scope=SCOPE, rule=rule, identity=identity, ip=ip)
    if second_factor_verify(user=user, code=code) is None:
        ratelimit.hit(None, scope=SCOPE, rule=rule, identity=identity, ip=ip)
        activity_log(action="admin.2fa_failed", entity=user, entity_type="User", metadata={"ip": ip or ""})
        raise NotAuthenticated("The authentication code is wrong.", code="INVALID_OTP")
    ratelimit.reset(None, scope=SCOPE, rule=rule, identity=identity)
