"""Every way a caller can be let in or turned away, through the real endpoints."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tradeline.brokers.auth import broker_for_key, issue_admin_token
from tradeline.brokers.models import AdminRole, AdminToken, Broker, BrokerApiKey, BrokerStatus, KeyKind

pytestmark = pytest.mark.django_db


def _error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "code", "details"}
    assert body["code"] == code
    assert body["error"]
    return body


def test_no_key_is_401(client):
    _error(client.get("/api/brokers/me"), 401, "UNAUTHENTICATED")


@pytest.mark.parametrize("key", [
    "nonsense", "tlm_sk_", "tlm_sk_AAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", "x" * 5000, "tlm_at_abc_def",
])
def test_bad_key_is_401(client, keyed_broker, key):
    keyed_broker()
    _error(client.get("/api/brokers/me", HTTP_X_API_KEY=key), 401, "INVALID_API_KEY")


def test_right_prefix_wrong_secret_is_401(client, keyed_broker):
    _, issued = keyed_broker()
    forged = issued["secret_key"][:-4] + "AAAA"
    _error(client.get("/api/brokers/me", HTTP_X_API_KEY=forged), 401, "INVALID_API_KEY")


def test_secret_key_reads_own_profile(client, keyed_broker):
    broker, issued = keyed_broker(markup_type="FIXED", markup_fixed=1999, markup_percent="0")
    response = client.get("/api/brokers/me", HTTP_X_API_KEY=issued["secret_key"])
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(broker.pk)
    assert (body["markup_fixed"], body["markup_fixed_usd"], body["status"]) == (1999, "19.99", "ACTIVE")
    assert body["revenue_share_percent"] == "10.00"
    assert "password" not in body and "notes" not in body


def test_revoked_key_fails_at_once_even_after_being_cached(client, keyed_broker, admin_headers,
                                                            django_capture_on_commit_callbacks):
    broker, issued = keyed_broker()
    assert client.get("/api/brokers/me", HTTP_X_API_KEY=issued["secret_key"]).status_code == 200  # cached now
    key = BrokerApiKey.objects.get(broker=broker, kind=KeyKind.SECRET)
    headers = admin_headers()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(f"/api/admin/brokers/{broker.pk}/keys/{key.pk}/revoke", **headers)
    assert len(callbacks) == 1
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    _error(client.get("/api/brokers/me", HTTP_X_API_KEY=issued["secret_key"]), 401, "INVALID_API_KEY")


def test_rotated_keys_replace_old_ones_at_once(client, keyed_broker, admin_headers,
                                               django_capture_on_commit_callbacks):
    broker, issued = keyed_broker()
    assert client.get("/api/brokers/me", HTTP_X_API_KEY=issued["secret_key"]).status_code == 200
    headers = admin_headers()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/admin/brokers/{broker.pk}/rotate-keys", {}, content_type="application/json",
                               **headers)
    assert response.status_code == 200
    fresh = response.json()["keys"]
    _error(client.get("/api/brokers/me", HTTP_X_API_KEY=issued["secret_key"]), 401, "INVALID_API_KEY")
    assert client.get("/api/brokers/me", HTTP_X_API_KEY=fresh["secret_key"]).status_code == 200


def test_broker_revokes_its_own_key_and_it_fails_at_once(client, keyed_broker, django_capture_on_commit_callbacks):
    broker, issued = keyed_broker()
    key = BrokerApiKey.objects.get(broker=broker, kind=KeyKind.PUBLISHABLE)
    assert broker_for_key(issued["publishable_key"]) == (broker, KeyKind.PUBLISHABLE)  # cached now
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/brokers/me/keys/{key.pk}/revoke", HTTP_X_API_KEY=issued["secret_key"])
    assert response.status_code == 200
    _error(client.get("/api/brokers/me", HTTP_X_API_KEY=issued["publishable_key"]), 401, "INVALID_API_KEY")


@pytest.mark.parametrize("status, code", [
    (BrokerStatus.SUSPENDED, "BROKER_SUSPENDED"),
    (BrokerStatus.PENDING, "BROKER_PENDING"),
    (BrokerStatus.INACTIVE, "BROKER_INACTIVE"),
])
def test_broker_that_is_not_active_gets_403_with_its_reason(client, keyed_broker, status, code):
    _, issued = keyed_broker(status=status)
    _error(client.get("/api/brokers/me", HTTP_X_API_KEY=issued["secret_key"]), 403, code)
    _error(client.patch("/api/brokers/me", {"name": "x"}, content_type="application/json",
                        HTTP_X_API_KEY=issued["secret_key"]), 403, code)


def test_suspension_takes_effect_for_a_cached_key(client, keyed_broker, admin_headers):
    broker, issued = keyed_broker()
    assert client.get("/api/brokers/me", HTTP_X_API_KEY=issued["secret_key"]).status_code == 200
    assert client.post(f"/api/admin/brokers/{broker.pk}/suspend", content_type="application/json",
                       **admin_headers()).status_code == 200
    _error(client.get("/api/brokers/me", HTTP_X_API_KEY=issued["secret_key"]), 403, "BROKER_SUSPENDED")


def test_publishable_key_on_a_secret_only_endpoint_is_403(client, keyed_broker):
    broker, issued = keyed_broker()
    pk = issued["publishable_key"]
    _error(client.get("/api/brokers/me", HTTP_X_API_KEY=pk), 403, "SECRET_KEY_REQUIRED")
    _error(client.patch("/api/brokers/me", {"markup_percent": "99"}, content_type="application/json",
                        HTTP_X_API_KEY=pk), 403, "SECRET_KEY_REQUIRED")
    _error(client.post("/api/brokers/me/rotate-keys", content_type="application/json", HTTP_X_API_KEY=pk), 403,
           "SECRET_KEY_REQUIRED")
    _error(client.get("/api/brokers/me/keys", HTTP_X_API_KEY=pk), 403, "SECRET_KEY_REQUIRED")
    assert Broker.objects.get(pk=broker.pk).markup_percent == 20
    assert BrokerApiKey.objects.filter(broker=broker).count() == 2


def test_broker_a_cannot_see_broker_b_objects(client, keyed_broker):
    a, a_keys = keyed_broker()
    b, _ = keyed_broker()
    b_key = BrokerApiKey.objects.get(broker=b, kind=KeyKind.SECRET)
    own_key = BrokerApiKey.objects.get(broker=a, kind=KeyKind.SECRET)
    sk = a_keys["secret_key"]
    assert client.get(f"/api/brokers/{a.pk}", HTTP_X_API_KEY=sk).status_code == 200
    assert client.get(f"/api/brokers/me/keys/{own_key.pk}", HTTP_X_API_KEY=sk).status_code == 200
    _error(client.get(f"/api/brokers/{b.pk}", HTTP_X_API_KEY=sk), 404, "BROKER_NOT_FOUND")
    _error(client.get(f"/api/brokers/me/keys/{b_key.pk}", HTTP_X_API_KEY=sk), 404, "KEY_NOT_FOUND")
    _error(client.post(f"/api/brokers/me/keys/{b_key.pk}/revoke", HTTP_X_API_KEY=sk), 404, "KEY_NOT_FOUND")
    # the same answer as for an id that does not exist at all
    _error(client.get("/api/brokers/00000000-0000-0000-0000-000000000000", HTTP_X_API_KEY=sk), 404,
           "BROKER_NOT_FOUND")
    assert BrokerApiKey.objects.get(pk=b_key.pk).revoked_at is None
    listed = client.get("/api/brokers/me/keys", HTTP_X_API_KEY=sk).json()
    assert {row["id"] for row in listed} == {str(k.pk) for k in BrokerApiKey.objects.filter(broker=a)}


def test_broker_key_cannot_reach_admin_endpoints(client, keyed_broker):
    broker, issued = keyed_broker()
    _error(client.get("/api/admin/brokers", HTTP_X_API_KEY=issued["secret_key"]), 401, "UNAUTHENTICATED")
    _error(client.get("/api/admin/brokers", HTTP_AUTHORIZATION=f"Bearer {issued['secret_key']}"), 401,
           "INVALID_TOKEN")


def test_support_role_reads_but_cannot_write(client, keyed_broker, admin_headers):
    broker, _ = keyed_broker()
    support = admin_headers(AdminRole.SUPPORT)
    assert client.get("/api/admin/brokers", **support).status_code == 200
    assert client.get(f"/api/admin/brokers/{broker.pk}", **support).status_code == 200
    writes = [
        client.post("/api/admin/brokers", {"name": "N", "email": "n@example.com"}, content_type="application/json",
                    **support),
        client.patch(f"/api/admin/brokers/{broker.pk}", {"revenue_share_percent": "20"},
                     content_type="application/json", **support),
        client.post(f"/api/admin/brokers/{broker.pk}/suspend", content_type="application/json", **support),
        client.post(f"/api/admin/brokers/{broker.pk}/rotate-keys", content_type="application/json", **support),
    ]
    for response in writes:
        _error(response, 403, "READ_ONLY_ROLE")
    broker.refresh_from_db()
    assert (broker.status, broker.revenue_share_percent) == ("ACTIVE", 10)
    assert Broker.objects.count() == 1
    assert BrokerApiKey.objects.filter(broker=broker, revoked_at__isnull=True).count() == 2


@pytest.mark.parametrize("role", [AdminRole.SUPER_ADMIN, AdminRole.ADMIN, AdminRole.STAFF])
def test_write_roles_may_write(client, keyed_broker, admin_headers, role):
    broker, _ = keyed_broker()
    response = client.patch(f"/api/admin/brokers/{broker.pk}", {"revenue_share_percent": "20"},
                            content_type="application/json", **admin_headers(role))
    assert response.status_code == 200
    assert Broker.objects.get(pk=broker.pk).revenue_share_percent == 20


def test_expired_token_is_401(client, admin_user):
    raw, token = issue_admin_token(admin_user, 3600)
    assert client.get("/api/admin/brokers", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    AdminToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    _error(client.get("/api/admin/brokers", HTTP_AUTHORIZATION=f"Bearer {raw}"), 401, "TOKEN_EXPIRED")


def test_bad_and_revoked_tokens_are_401(client, admin_user):
    raw, token = issue_admin_token(admin_user, 3600)
    _error(client.get("/api/admin/brokers", HTTP_AUTHORIZATION="Bearer garbage"), 401, "INVALID_TOKEN")
    _error(client.get("/api/admin/brokers", HTTP_AUTHORIZATION=f"Bearer {raw[:-2]}zz"), 401, "INVALID_TOKEN")
    _error(client.get("/api/admin/brokers"), 401, "UNAUTHENTICATED")
    AdminToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    _error(client.get("/api/admin/brokers", HTTP_AUTHORIZATION=f"Bearer {raw}"), 401, "INVALID_TOKEN")


def test_token_of_a_user_without_admin_role_is_403(client, django_user_model):
    user = django_user_model.objects.create_user(username="plain@example.com", password="x" * 12)
    raw, _ = issue_admin_token(user, 3600)
    _error(client.get("/api/admin/brokers", HTTP_AUTHORIZATION=f"Bearer {raw}"), 403, "NOT_ADMIN")
    user.is_active = False
    user.save()


def test_key_lookup_is_cached_and_last_use_recorded(client, keyed_broker, django_assert_max_num_queries):
    broker, issued = keyed_broker()
    assert client.get("/api/brokers/me", HTTP_X_API_KEY=issued["secret_key"]).status_code == 200
    key = BrokerApiKey.objects.get(broker=broker, kind=KeyKind.SECRET)
    assert key.last_used_at is not None
    with django_assert_max_num_queries(1):  # the broker row only: key from the cache, last use already recorded
        assert client.get("/api/brokers/me", HTTP_X_API_KEY=issued["secret_key"]).status_code == 200
