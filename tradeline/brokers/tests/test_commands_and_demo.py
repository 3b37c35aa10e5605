import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tradeline.brokers import demo
from tradeline.brokers.auth import admin_role, broker_for_key
from tradeline.brokers.models import Broker, BrokerStatus, KeyKind
from tradeline.brokers.services import (
    broker_admin_update,
    broker_authenticate,
    broker_keys_rotate,
    broker_suspend,
    broker_update_settings,
)
from tradeline.core.cors import origin_allowed

pytestmark = pytest.mark.django_db


def _run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def test_create_broker_prints_working_keys_once():
    output = _run("create_broker", "--name", "Cli Broker", "--email", "cli@example.com", "--share", "12.5",
                  "--active")
    broker = Broker.objects.get(email="cli@example.com")
    assert (broker.status, str(broker.revenue_share_percent)) == (BrokerStatus.ACTIVE, "12.50")
    publishable = re.search(r"publishable key: (\S+)", output).group(1)
    secret = re.search(r"secret key:\s+(\S+)", output).group(1)
    assert broker_for_key(publishable) == (broker, KeyKind.PUBLISHABLE)
    assert broker_for_key(secret) == (broker, KeyKind.SECRET)


def test_create_broker_refuses_bad_share_without_creating():
    with pytest.raises(CommandError, match="SHARE_OUT_OF_RANGE"):
        _run("create_broker", "--name", "X", "--email", "x@example.com", "--share", "40")
    assert not Broker.objects.exists()


def test_create_admin_with_password_and_generated():
    _run("create_admin", "--email", "Boss@Example.com", "--role", "SUPER_ADMIN", "--password", "a-strong-passphrase")
    user = get_user_model().objects.get(username="boss@example.com")
    assert (admin_role(user), user.is_superuser, user.check_password("a-strong-passphrase")) == (
        "SUPER_ADMIN", True, True)
    output = _run("create_admin", "--email", "help@example.com", "--role", "SUPPORT", "--generate-password")
    password = re.search(r"password \(shown only now\): (\S+)", output).group(1)
    support = get_user_model().objects.get(username="help@example.com")
    assert (admin_role(support), support.is_superuser, support.check_password(password)) == ("SUPPORT", False, True)


def test_create_admin_refuses_weak_password_and_duplicates():
    with pytest.raises(CommandError, match="WEAK_PASSWORD"):
        _run("create_admin", "--email", "weak@example.com", "--password", "short")
    _run("create_admin", "--email", "dup@example.com", "--password", "a-strong-passphrase")
    with pytest.raises(CommandError, match="ADMIN_EXISTS"):
        _run("create_admin", "--email", "DUP@example.com", "--password", "a-strong-passphrase")
    assert get_user_model().objects.count() == 1


def test_demo_seed_creates_an_active_broker_once_and_then_keeps_it():
    env = {"PORT": "8765", "PUBLIC_BASE_URL": "http://127.0.0.1:8765", "DEMO_BROKER_PASSWORD": "demo-pass-123456"}
    first = demo.seed(env)["broker"]
    broker = Broker.objects.get()
    assert (broker.business_name, broker.email, broker.status) == ("Demo Credit Partners", "broker@demo.local",
                                                                   "ACTIVE")
    assert (str(broker.revenue_share_percent), str(broker.markup_percent), broker.markup_type) == (
        "10.00", "20.000", "PERCENTAGE")
    assert broker.allowed_origins == ["http://127.0.0.1:8765"]
    assert broker.website == "http://127.0.0.1:8765/demo/"
    assert origin_allowed(broker, "http://127.0.0.1:8765")
    assert broker_for_key(first["secret_key"]) == (broker, KeyKind.SECRET)
    assert broker_for_key(first["publishable_key"]) == (broker, KeyKind.PUBLISHABLE)
    assert first["password"] == "demo-pass-123456"
    assert broker_authenticate(email="broker@demo.local", password="demo-pass-123456") == broker

    # The user changes things; a second run (same credentials file) keeps all of it.
    broker_update_settings(broker=broker, markup_type="FIXED", markup_fixed=12_500, business_name="Dana's Credit")
    broker_admin_update(broker_id=broker.pk, revenue_share_percent="15")
    second = demo.seed({**env, "DEMO_PREVIOUS_CREDENTIALS": {"broker": first}})["broker"]

    broker.refresh_from_db()
    assert second == first
    assert (broker.markup_type, broker.markup_fixed, str(broker.revenue_share_percent), broker.business_name) == (
        "FIXED", 12_500, "15.00", "Dana's Credit")
    assert broker_for_key(first["secret_key"]) == (broker, KeyKind.SECRET)  # not rotated


def test_demo_seed_reports_keys_and_status_the_user_changed():
    env = {"PUBLIC_BASE_URL": "http://127.0.0.1:8765", "DEMO_BROKER_PASSWORD": "demo-pass-123456"}
    first = demo.seed(env)["broker"]
    broker = Broker.objects.get()
    broker_keys_rotate(broker_id=broker.pk, kind="SECRET")
    broker_suspend(broker_id=broker.pk)

    second = demo.seed({**env, "PUBLIC_BASE_URL": "http://127.0.0.1:9000",
                        "DEMO_PREVIOUS_CREDENTIALS": {"broker": first}})["broker"]

    broker.refresh_from_db()
    assert second["publishable_key"] == first["publishable_key"]
    assert second["secret_key"] == demo.ROTATED
    assert broker.status == "SUSPENDED"
    assert second["notes"] == ["the demo broker is SUSPENDED (changed in the admin): the demo shop refuses "
                               "checkouts until an admin approves it again"]
    assert broker.allowed_origins == ["http://127.0.0.1:8765", "http://127.0.0.1:9000"]