import pytest
from django.core.cache import cache

from tradeline.brokers.models import AdminRole
from tradeline.testing.factories import make_admin


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_admin_login_is_throttled_per_username(client, settings):
    settings.RATE_LIMIT_LOGIN = "3/300"
    make_admin(role=AdminRole.ADMIN, email="ops@example.com", password="right-password-123")
    codes = [client.post("/admin/login/", {"username": "ops@example.com", "password": "wrong"}).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    blocked = client.post("/admin/login/", {"username": "ops@example.com", "password": "right-password-123"})
    assert blocked.status_code == 429
    assert blocked["Retry-After"].isdigit()
    assert client.get("/admin/").status_code == 302  # still signed out


@pytest.mark.django_db
def test_admin_login_success_clears_the_failures(client, settings):
    settings.RATE_LIMIT_LOGIN = "3/300"
    make_admin(role=AdminRole.ADMIN, email="ops@example.com", password="right-password-123")
    client.post("/admin/login/", {"username": "ops@example.com", "password": "wrong"})
    client.post("/admin/login/", {"username": "ops@example.com", "password": "wrong"})
    ok = client.post("/admin/login/", {"username": "ops@example.com", "password": "right-password-123"})
    assert ok.status_code == 302
    assert client.get("/admin/").status_code == 200
