"""Two-factor sign-in for admins: required for SUPER_ADMIN/ADMIN, TOTP codes, single-use recovery
codes, through the API's two steps and the Django admin's login form."""

import time

import pytest
from django.core.cache import cache
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tradeline.audit.models import ActivityLog
from tradeline.brokers import twofactor
from tradeline.brokers.models import AdminRole, AdminToken
from tradeline.brokers.tests.conftest import unique_email, unique_ip
from tradeline.testing.factories import make_admin

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _require_2fa(settings):
    settings.ADMIN_REQUIRE_2FA = True
    cache.clear()
    yield
    cache.clear()


def code_for(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def enrolled_admin(role=AdminRole.ADMIN):
    user = make_admin(role=role, email=unique_email(role.lower()), password=PASSWORD)
    device = twofactor.totp_enrol_start(user=user)
    device, codes = twofactor.totp_enrol_confirm(user=user, device_id=device.pk, code=code_for(device))
    return user, device, codes


def login(client, user, **extra):
    return client.post("/api/admin/auth/login", {"email": user.email, "password": PASSWORD, **extra},
                       content_type="application/json", REMOTE_ADDR=unique_ip())


@pytest.mark.parametrize("role", [AdminRole.SUPER_ADMIN, AdminRole.ADMIN])
def test_required_roles_get_no_token_without_a_second_factor(client, role):
    user, _, _ = enrolled_admin(role)
    response = login(client, user)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "TWO_FACTOR_REQUIRED"
    assert body["details"]["challenge"]
    assert "token" not in body
    assert not AdminToken.objects.filter(user=user).exists()


def test_required_role_without_a_device_must_enrol_first(client):
    user = make_admin(role=AdminRole.ADMIN, email=unique_email(), password=PASSWORD)
    response = login(client, user)
    assert response.status_code == 403
    assert response.json()["code"] == "TWO_FACTOR_ENROLMENT_REQUIRED"
    assert not AdminToken.objects.filter(user=user).exists()


def test_staff_is_not_asked_for_a_second_factor(client):
    user = make_admin(role=AdminRole.STAFF, email=unique_email(), password=PASSWORD)
    response = login(client, user)
    assert response.status_code == 200
    assert response.json()["role"] == "STAFF"


def test_setting_off_means_password_only(client, settings):
    settings.ADMIN_REQUIRE_2FA = False
    user = make_admin(role=AdminRole.SUPER_ADMIN, email=unique_email(), password=PASSWORD)
    assert login(client, user).status_code == 200


def test_second_step_with_totp_code_issues_a_token(client):
    user, device, _ = enrolled_admin()
    challenge = login(client, user).json()["details"]["challenge"]
    device.refresh_from_db()
    response = client.post("/api/admin/auth/login/2fa", {"challenge": challenge, "code": code_for(device, 1)},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    me = client.get("/api/admin/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.json() == {"email": user.email, "role": "ADMIN"}
    assert ActivityLog.objects.filter(action="admin.2fa_verified", entity_id=str(user.pk)).count() == 1


def test_wrong_code_and_forged_challenge_are_refused(client):
    user, _, _ = enrolled_admin()
    challenge = login(client, user).json()["details"]["challenge"]
    wrong = client.post("/api/admin/auth/login/2fa", {"challenge": challenge, "code": "000000"},
                        content_type="application/json")
    assert (wrong.status_code, wrong.json()["code"]) == (401, "INVALID_OTP")
    forged = client.post("/api/admin/auth/login/2fa", {"challenge": challenge[:-3] + "abc", "code": "123456"},
                         content_type="application/json")
    assert (forged.status_code, forged.json()["code"]) == (401, "INVALID_CHALLENGE")
    assert not AdminToken.objects.filter(user=user).exists()


def test_expired_challenge_is_refused(client, settings):
    user, device, _ = enrolled_admin()
    challenge = login(client, user).json()["details"]["challenge"]
    settings.ADMIN_2FA_CHALLENGE_SECONDS = 0
    time.sleep(1.1)
    response = client.post("/api/admin/auth/login/2fa", {"challenge": challenge, "code": code_for(device, 1)},
                           content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (401, "CHALLENGE_EXPIRED")


def test_recovery_codes_are_single_use(client):
    user, _, codes = enrolled_admin()
    assert len(codes) == 10 and len(set(codes)) == 10 and all(len(code) <= 16 for code in codes)
    first = login(client, user, otp_code=codes[0])
    assert first.status_code == 200, first.content
    assert twofactor.recovery_codes_left(user) == 9
    again = login(client, user, otp_code=codes[0])
    assert (again.status_code, again.json()["code"]) == (401, "INVALID_OTP")
    assert AdminToken.objects.filter(user=user).count() == 1
    assert not StaticToken.objects.filter(device__user=user, token=codes[0]).exists()


def test_regenerated_recovery_codes_replace_the_old_ones(client, settings):
    settings.OTP_STATIC_THROTTLE_FACTOR = 0  # a failure would otherwise lock the device for a second
    user, _, codes = enrolled_admin()
    fresh = twofactor.recovery_codes_regenerate(user=user)
    assert set(fresh).isdisjoint(codes)
    assert login(client, user, otp_code=codes[1]).status_code == 401
    assert login(client, user, otp_code=fresh[0]).status_code == 200


def test_wrong_codes_are_rate_limited(client, settings):
    settings.RATE_LIMIT_2FA = "3/300"
    user, device, _ = enrolled_admin()
    statuses = [login(client, user, otp_code="999999").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_enrolment_refuses_a_wrong_code_and_keeps_the_device_unconfirmed():
    user = make_admin(role=AdminRole.ADMIN, email=unique_email(), password=PASSWORD)
    device = twofactor.totp_enrol_start(user=user)
    with pytest.raises(twofactor.ValidationFailed):
        twofactor.totp_enrol_confirm(user=user, device_id=device.pk, code="12345x")
    assert not twofactor.admin_has_2fa(user)
    assert twofactor.recovery_codes_left(user) == 0


def test_qr_code_is_an_svg_of_the_otpauth_url():
    user = make_admin(role=AdminRole.ADMIN, email=unique_email(), password=PASSWORD)
    device = twofactor.totp_enrol_start(user=user)
    svg = twofactor.totp_qr_svg(device)
    assert svg.startswith("<svg") and "path" in svg
    assert device.config_url.startswith("otpauth://totp/")


# ------------------------------------------------------------------ Django admin

def test_admin_site_needs_the_code(client):
    user, device, codes = enrolled_admin()
    no_code = client.post("/admin/login/", {"username": user.email, "password": PASSWORD})
    assert no_code.status_code == 200  # the form again, with an error
    assert b"valid authentication code" in no_code.content
    assert client.get("/admin/").status_code == 302
    ok = client.post("/admin/login/?next=/admin/", {"username": user.email, "password": PASSWORD,
                                                    "otp_code": codes[3]})
    assert ok.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_admin_without_device_is_sent_to_enrolment_and_then_verified(client):
    user = make_admin(role=AdminRole.SUPER_ADMIN, email=unique_email(), password=PASSWORD)
    client.post("/admin/login/", {"username": user.email, "password": PASSWORD})
    assert client.get("/admin/").status_code == 302
    page = client.get("/admin/login/")
    assert page.status_code == 302 and page["Location"] == "/admin/2fa/"
    setup = client.get("/admin/2fa/")
    assert b"<svg" in setup.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    done = client.post("/admin/2fa/", {"action": "confirm", "device_id": device.pk, "code": code_for(device)})
    assert done.status_code == 200
    assert len(done.context["codes"]) == 10
    assert client.get("/admin/").status_code == 200


def test_a_failure_throttles_the_device_even_for_a_right_code(client):
    user, _, codes = enrolled_admin()
    assert login(client, user, otp_code="nothing-valid").status_code == 401
    assert login(client, user, otp_code=codes[0]).status_code == 401
    assert twofactor.recovery_codes_left(user) == 10


def test_reset_command_removes_the_devices(client):
    from django.core.management import call_command

    user, _, codes = enrolled_admin()
    call_command("admin_2fa_reset", email=user.email, verbosity=0)
    assert not twofactor.admin_has_2fa(user) and twofactor.recovery_codes_left(user) == 0
    assert login(client, user, otp_code=codes[0]).json()["code"] == "TWO_FACTOR_ENROLMENT_REQUIRED"
