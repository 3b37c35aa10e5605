import pytest
from django.test import override_settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tradeline.audit.models import ActivityLog
from tradeline.brokers.models import AdminRole, AdminToken
from tradeline.brokers.tests.conftest import unique_email, unique_ip
from tradeline.testing.factories import make_admin

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def _login(client, email, password=PASSWORD, ip=None):
    return client.post("/api/admin/auth/login", {"email": email, "password": password},
                       content_type="application/json", REMOTE_ADDR=ip or unique_ip())


@override_settings(ADMIN_TOKEN_TTL_SECONDS=600)
def test_login_returns_a_working_token_with_expiry_and_role(client):
    email = unique_email()
    user = make_admin(role=AdminRole.STAFF, email=email)
    before = timezone.now()
    response = _login(client, email.upper())
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_at", "role"}
    assert body["role"] == "STAFF"
    assert body["token"].startswith("tlm_at_")
    expires = parse_datetime(body["expires_at"])
    assert 599 <= (expires - before).total_seconds() <= 610
    token = AdminToken.objects.get(user=user)
    assert body["token"] not in token.key_hash
    me = client.get("/api/admin/auth/me", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert me.json() == {"email": email, "role": "STAFF"}
    assert ActivityLog.objects.filter(action="admin.login", actor_user=user).count() == 1


def test_wrong_password_unknown_user_and_non_admin_all_get_the_same_401(client, django_user_model):
    email = unique_email()
    make_admin(email=email)
    plain = unique_email("plain")
    django_user_model.objects.create_user(username=plain, email=plain, password=PASSWORD)
    for response in (_login(client, email, "wrong-password"), _login(client, unique_email()), _login(client, plain)):
        assert response.status_code == 401
        assert response.json() == {"error": "The email or password is wrong.", "code": "INVALID_CREDENTIALS",
                                   "details": None}
    assert not AdminToken.objects.exists()


@override_settings(RATE_LIMIT_LOGIN="3/300")
def test_failed_logins_are_throttled_per_email(client):
    email = unique_email()
    make_admin(email=email)
    for _ in range(3):
        assert _login(client, email, "wrong-password").status_code == 401  # a new IP each time
    response = _login(client, email)  # even the right password waits now
    assert response.status_code == 429
    assert response.json()["code"] == "RATE_LIMITED"
    assert 1 <= int(response["Retry-After"]) <= 300
    assert not AdminToken.objects.exists()


@override_settings(RATE_LIMIT_LOGIN="3/300")
def test_failed_logins_are_throttled_per_ip(client):
    ip, email = unique_ip(), unique_email()
    make_admin(email=email)
    for _ in range(3):
        assert _login(client, unique_email(), "guess-guess", ip=ip).status_code == 401
    assert _login(client, email, ip=ip).status_code == 429
    assert _login(client, email, ip=unique_ip()).status_code == 200  # another address is not affected


@override_settings(RATE_LIMIT_LOGIN="3/300")
def test_successful_logins_are_not_counted(client):
    email, ip = unique_email(), unique_ip()
    make_admin(email=email)
    for _ in range(5):
        assert _login(client, email, ip=ip).status_code == 200


def test_logout_revokes_the_token(client):
    email = unique_email()
    make_admin(email=email)
    token = _login(client, email).json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get("/api/admin/brokers", **auth).status_code == 200
    assert client.post("/api/admin/auth/logout", **auth).status_code == 204
    response = client.get("/api/admin/brokers", **auth)
    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_TOKEN"
    assert AdminToken.objects.get().revoked_at is not None


@pytest.mark.parametrize("body", ['{"email": "a@example.com"}', '{"email": 5, "password": []}', "{", "[]", ""])
def test_malformed_login_bodies_are_4xx_json(client, body):
    response = client.post("/api/admin/auth/login", body, content_type="application/json", REMOTE_ADDR=unique_ip())
    assert response.status_code in (400, 422)
    assert set(response.json()) == {"error", "code", "details"}
