"""Broker self-service: forgotten password (expiring, single-use, enumeration-safe, rate-limited),
profile with the API's validation, login email change confirmed first, password change."""

import re
import uuid
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.test import TestCase

from tradeline.audit.models import ActivityLog
from tradeline.brokers.models import Broker, BrokerStatus
from tradeline.brokers.services import broker_authenticate, broker_set_password
from tradeline.brokers.tokens import password_reset_link, password_reset_tokens
from tradeline.portal.account import FORGOT_SENT

pytestmark = pytest.mark.django_db
PASSWORD = "portal-password-1"
NEW_PASSWORD = "brand-new-secret-42"


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    cache.clear()
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)
    yield
    cache.clear()


def run_worker():
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("db_worker", batch=True, queue_name="*", startup_delay=False, reload=False, verbosity=0)


@pytest.fixture
def broker(make_broker):
    broker = make_broker(email=f"dana-{uuid.uuid4().hex[:6]}@broker.test", name="Dana")
    broker_set_password(broker_id=broker.pk, password=PASSWORD)
    broker.refresh_from_db()
    return broker


@pytest.fixture
def portal(client, broker):
    assert client.post("/portal/login/", {"email": broker.email, "password": PASSWORD}).status_code == 302
    return client


def _link(message) -> str:
    return re.search(r"http://\S+/portal/\S+/", message.body).group(0)


# ------------------------------------------------------------------ forgotten password

def test_known_and_unknown_emails_get_the_same_answer(client, broker):
    known = client.post("/portal/forgot/", {"email": broker.email.upper()})
    unknown = client.post("/portal/forgot/", {"email": "nobody@nowhere.test"})
    assert known.status_code == unknown.status_code == 200
    assert FORGOT_SENT in known.content.decode() and FORGOT_SENT in unknown.content.decode()
    run_worker()
    assert [m.to for m in mail.outbox] == [[broker.email]]
    assert mail.outbox[0].alternatives[0][1] == "text/html"
    assert "/portal/reset/" in mail.outbox[0].body
    assert ActivityLog.objects.filter(action="broker.password_reset_requested").count() == 1


def test_inactive_broker_gets_no_link(client, broker):
    Broker.objects.filter(pk=broker.pk).update(status=BrokerStatus.INACTIVE)
    assert FORGOT_SENT in client.post("/portal/forgot/", {"email": broker.email}).content.decode()
    run_worker()
    assert mail.outbox == []


def test_reset_link_sets_the_password_once(client, broker, django_capture_on_commit_callbacks):
    client.post("/portal/forgot/", {"email": broker.email})
    run_worker()
    link = _link(mail.outbox[0]).replace("http://127.0.0.1:8000", "").split("//", 1)[-1]
    path = link[link.index("/portal/"):]
    page = client.get(path)
    assert page.status_code == 200 and page["Referrer-Policy"] == "no-referrer"
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(path, {"password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/portal/"
    assert broker_authenticate(email=broker.email, password=NEW_PASSWORD) is not None
    assert broker_authenticate(email=broker.email, password=PASSWORD) is None
    assert mail.outbox[-1].subject == "Your Tradeline portal password was changed"
    assert ActivityLog.objects.filter(action="broker.password_reset", entity_id=str(broker.pk)).count() == 1
    again = client.post(path, {"password": "another-secret-99", "password2": "another-secret-99"})
    assert again.status_code == 400 and b"invalid or has expired" in again.content
    assert broker_authenticate(email=broker.email, password=NEW_PASSWORD) is not None


def test_reset_link_expires(client, broker, settings, monkeypatch):
    settings.PASSWORD_RESET_TIMEOUT = 3600
    two_hours_ago = datetime.now() - timedelta(hours=2)
    monkeypatch.setattr(password_reset_tokens, "_now", lambda: two_hours_ago)
    link = password_reset_link(broker)
    monkeypatch.setattr(password_reset_tokens, "_now", lambda: datetime.now())
    path = link[link.index("/portal/"):]
    response = client.post(path, {"password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 400
    assert broker_authenticate(email=broker.email, password=PASSWORD) is not None
    # The same link made now works: only its age was wrong.
    fresh = password_reset_link(broker)
    assert client.get(fresh[fresh.index("/portal/"):]).status_code == 200


def test_forged_links_are_refused(client, broker):
    for path in ("/portal/reset/AAAA/abc-def/", f"/portal/reset/{password_reset_link(broker).split('/')[-3]}/x-y/"):
        assert client.get(path).status_code == 400


def test_weak_password_is_refused_and_link_still_works(client, broker):
    link = password_reset_link(broker)
    path = link[link.index("/portal/"):]
    weak = client.post(path, {"password": "password", "password2": "password"})
    assert weak.status_code == 400 and b"too weak" in weak.content
    assert client.get(path).status_code == 200


def test_forgot_is_rate_limited_for_any_email(client, broker, settings):
    settings.RATE_LIMIT_PASSWORD_RESET = "2/900"
    codes = [client.post("/portal/forgot/", {"email": email}).status_code
             for email in (broker.email, broker.email, broker.email)]
    assert codes == [200, 200, 429]
    cache.clear()
    codes = [client.post("/portal/forgot/", {"email": "ghost@nowhere.test"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


# ------------------------------------------------------------------ profile

def test_profile_saves_through_the_api_validation_and_logs(portal, broker):
    response = portal.post("/portal/profile/", {
        "action": "profile", "name": "Dana Smith", "business_name": "Smith Credit", "phone": "+1 555 0100",
        "address": "1 Main St\nSpringfield", "website": "https://smith.example.com",
        "allowed_origins": "https://smith.example.com\nhttps://shop.smith.example.com"})
    assert response.status_code == 302
    broker.refresh_from_db()
    assert (broker.name, broker.business_name, broker.address, broker.allowed_origins) == (
        "Dana Smith", "Smith Credit", "1 Main St\nSpringfield",
        ["https://smith.example.com", "https://shop.smith.example.com"])
    log = ActivityLog.objects.get(action="broker.settings_updated", entity_id=str(broker.pk))
    assert set(log.metadata["changes"]) == {"name", "business_name", "phone", "address", "website",
                                            "allowed_origins"}


@pytest.mark.parametrize("field,value", [("website", "javascript:alert(1)"), ("allowed_origins", "not an origin"),
                                         ("name", ""), ("address", "x" * 501)])
def test_profile_refuses_what_the_api_refuses(portal, broker, field, value):
    data = {"action": "profile", "name": "Dana", "website": "", "allowed_origins": "", field: value}
    response = portal.post("/portal/profile/", data)
    assert response.status_code == 400
    broker.refresh_from_db()
    assert broker.name == "Dana" and broker.allowed_origins == []


def test_password_change_emails_and_keeps_the_session(portal, broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = portal.post("/portal/profile/", {"action": "password", "current": PASSWORD,
                                                    "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert portal.get("/portal/").status_code == 200
    assert [m.subject for m in mail.outbox] == ["Your Tradeline portal password was changed"]
    wrong = portal.post("/portal/profile/", {"action": "password", "current": "wrong-one-123",
                                             "new_password": "x-new-pass-77", "new_password2": "x-new-pass-77"})
    assert wrong.status_code == 400


# ------------------------------------------------------------------ login email

def test_email_change_is_confirmed_by_the_new_address_first(portal, broker, django_capture_on_commit_callbacks):
    old = broker.email
    with django_capture_on_commit_callbacks(execute=True):
        response = portal.post("/portal/profile/", {"action": "email", "new_email": "dana.new@broker.test",
                                                    "password": PASSWORD})
    assert response.status_code == 302
    broker.refresh_from_db()
    assert broker.email == old  # nothing changes before the confirmation
    [confirm] = mail.outbox
    assert confirm.to == ["dana.new@broker.test"]
    path = _link(confirm)[_link(confirm).index("/portal/"):]
    assert portal.get(path).status_code == 200
    broker.refresh_from_db()
    assert broker.email == old  # GET (a mail scanner) changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        assert portal.post(path).status_code == 302
    broker.refresh_from_db()
    assert broker.email == "dana.new@broker.test"
    assert mail.outbox[-1].to == [old] and "dana.new@broker.test" in mail.outbox[-1].body
    assert ActivityLog.objects.filter(action="broker.email_changed", entity_id=str(broker.pk)).count() == 1
    assert portal.post(path).status_code == 400  # single use


def test_email_change_to_a_taken_address_reveals_nothing(portal, broker, make_broker,
                                                         django_capture_on_commit_callbacks):
    make_broker(email="taken@broker.test")
    with django_capture_on_commit_callbacks(execute=True):
            response = portal.post("/portal/profile/", {"action": "email", "new_email": "taken@broker.test",
                                                    "password": PASSWORD})
    assert response.status_code == 302
    assert mail.outbox == []
    broker.refresh_from_db()
    assert broker.email != "taken@broker.test"


def test_email_change_needs_the_password(portal, broker):
    response = portal.post("/portal/profile/", {"action": "email", "new_email": "x@broker.test", "password": "nope"})
    assert response.status_code == 400 and mail.outbox == []
