"""Login throttling holds under parallel guessing: every attempt takes its slot before the password
is checked, so of 24 simultaneous wrong passwords for one account at most RATE_LIMIT_LOGIN's count
are judged — on the admin API, the broker portal and the Django admin login alike.

Runs on whatever the suite runs on: SQLite with the local-memory cache, or PostgreSQL with Redis
(DATABASE_URL and REDIS_URL set), where the counters are Redis INCRs.
"""

import pytest
from django.core.cache import cache
from django.test import Client

from tradeline.audit.models import ActivityLog
from tradeline.brokers.models import AdminRole
from tradeline.brokers.services import broker_set_password
from tradeline.testing.concurrency import raised, run_together
from tradeline.testing.factories import make_admin

PARALLEL = 24
LIMIT = 5
RIGHT = "right-password-123"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.RATE_LIMIT_LOGIN = f"{LIMIT}/300"
    cache.clear()
    yield
    cache.clear()


def _race(post) -> list[int]:
    results = run_together([post] * PARALLEL, timeout=30)
    assert raised(results) == []
    return results


@pytest.mark.django_db(transaction=True)
def test_parallel_admin_api_guesses_judge_at_most_the_limit():
    make_admin(role=AdminRole.ADMIN, email="ops@example.com", password=RIGHT)

    def guess():
        return Client().post("/api/admin/auth/login", {"email": "ops@example.com", "password": "wrong-guess-1"},
                             content_type="application/json", REMOTE_ADDR="203.0.113.7").status_code

    codes = _race(guess)
    assert codes.count(401) == LIMIT
    assert codes.count(429) == PARALLEL - LIMIT
    assert ActivityLog.objects.filter(action="admin.login_failed").count() == codes.count(401)
    # The window is used up: the right password waits too.
    right = Client().post("/api/admin/auth/login", {"email": "ops@example.com", "password": RIGHT},
                          content_type="application/json", REMOTE_ADDR="198.51.100.9")
    assert right.status_code == 429


@pytest.mark.django_db(transaction=True)
def test_parallel_portal_guesses_judge_at_most_the_limit(make_broker):
    broker = make_broker(email="dana@broker.test")
    broker_set_password(broker_id=broker.pk, password=RIGHT)

    def guess():
        return Client().post("/portal/login/", {"email": "dana@broker.test", "password": "wrong-guess-1"},
                             REMOTE_ADDR="203.0.113.8").status_code

    codes = _race(guess)
    assert codes.count(400) == LIMIT
    assert codes.count(429) == PARALLEL - LIMIT


@pytest.mark.django_db(transaction=True)
def test_parallel_django_admin_guesses_judge_at_most_the_limit():
    make_admin(role=AdminRole.ADMIN, email="root@example.com", password=RIGHT)

    def guess():
        return Client().post("/admin/login/", {"username": "root@example.com", "password": "wrong-guess-1"},
                             REMOTE_ADDR="203.0.113.9").status_code

    codes = _race(guess)
    assert codes.count(200) == LIMIT  # 200: the form shown again with "wrong password"
    assert codes.count(429) == PARALLEL - LIMIT


@pytest.mark.django_db(transaction=True)
def test_successes_give_their_slot_back():
    make_admin(role=AdminRole.ADMIN, email="ok@example.com", password=RIGHT)

    def login():
        return Client().post("/api/admin/auth/login", {"email": "ok@example.com", "password": RIGHT},
                             content_type="application/json", REMOTE_ADDR="203.0.113.10").status_code

    codes = [login() for _ in range(LIMIT * 2)]
    assert codes == [200] * (LIMIT * 2)
