import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tradeline.brokers.auth import admin_role, broker_for_key
from tradeline.brokers.models import Broker, BrokerStatus, KeyKind

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
