import pytest

from tradeline.brokers.auth import broker_for_key
from tradeline.brokers.models import Broker, KeyKind
from tradeline.brokers.services import (
    broker_admin_update,
    broker_authenticate,
    broker_keys_rotate,
    broker_suspend,
    broker_update_settings,
)
from tradeline.core.cors import origin_allowed
from tradeline.devtools.seed import brokers as demo

pytestmark = pytest.mark.django_db


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
