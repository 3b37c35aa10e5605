import pytest

from tradeline.brokers.auth import broker_for_key
from tradeline.brokers.models import Broker, KeyKind
from tradeline.brokers.services import broker_authenticate
from tradeline.core.cors import origin_allowed
from tradeline.devtools.seed import brokers as demo

pytestmark = pytest.mark.django_db


def test_demo_seed_is_active_with_fresh_keys_each_time():
    env = {"PORT": "8765", "PUBLIC_BASE_URL": "http://127.0.0.1:8765", "DEMO_BROKER_PASSWORD": "demo-pass-123456"}
    first = demo.seed(env)["broker"]
    second = demo.seed(env)["broker"]
    broker = Broker.objects.get()
    assert first["id"] == second["id"] == str(broker.pk)
    assert (broker.business_name, broker.email, broker.status) == ("Demo Credit Partners", "broker@demo.local",
                                                                   "ACTIVE")
    assert (str(broker.revenue_share_percent), str(broker.markup_percent), broker.markup_type) == (
        "10.00", "20.000", "PERCENTAGE")
    assert broker.allowed_origins == ["http://127.0.0.1:8765"]
    assert broker.website == "http://127.0.0.1:8765/demo/"
    assert origin_allowed(broker, "http://127.0.0.1:8765")
    assert first["secret_key"] != second["secret_key"]
    assert broker_for_key(first["secret_key"]) is None
    assert broker_for_key(second["secret_key"]) == (broker, KeyKind.SECRET)
    assert broker_for_key(second["publishable_key"]) == (broker, KeyKind.PUBLISHABLE)
    assert second["password"] == "demo-pass-123456"
    assert broker_authenticate(email="broker@demo.local", password="demo-pass-123456") == broker
