import pytest

from tradeline.brokers.keys import hash_key
from tradeline.brokers.models import BrokerApiKey
from tradeline.devtools.demo import _merge
from tradeline.devtools.seed import widget as widget_demo
from tradeline.widget.models import DemoPage


@pytest.mark.django_db
def test_demo_page_uses_the_key_the_broker_step_issued(settings):
    from tradeline.devtools.seed import brokers as brokers_demo

    env = {"PUBLIC_BASE_URL": "http://127.0.0.1:18000", "DEMO_BROKER_PASSWORD": "demo-broker-pass-1"}
    creds = brokers_demo.seed(env)
    result = widget_demo.seed({**env, "DEMO_CREDENTIALS": creds})

    page = DemoPage.objects.get()
    assert page.publishable_key == creds["broker"]["publishable_key"]
    live = BrokerApiKey.objects.get(broker=page.broker, kind="PUBLISHABLE", revoked_at__isnull=True)
    assert live.key_hash == hash_key(page.publishable_key)
    assert result == {"urls": {"demo_shop": "http://127.0.0.1:18000/demo/",
                               "widget_js": "http://127.0.0.1:18000/widget.js",
                               "broker_portal": "http://127.0.0.1:18000/portal/"}}


@pytest.mark.django_db
def test_demo_page_alone_issues_its_own_publishable_key(make_broker):
    broker = make_broker(email="broker@demo.local")
    result = widget_demo.seed({"PUBLIC_BASE_URL": "http://127.0.0.1:8000"})
    page = DemoPage.objects.get()
    assert page.broker == broker
    assert result["broker"]["publishable_key"] == page.publishable_key
    assert BrokerApiKey.objects.get(broker=broker, revoked_at__isnull=True).key_hash == hash_key(page.publishable_key)


@pytest.mark.django_db
def test_demo_page_without_any_broker_does_nothing():
    assert widget_demo.seed({}) == {}
    assert DemoPage.objects.count() == 0


def test_credentials_merge_keeps_earlier_steps():
    creds = {"urls": {"admin": "a"}, "broker": {"email": "b@x", "publishable_key": "old"}}
    _merge(creds, {"urls": {"demo_shop": "d"}, "broker": {"publishable_key": "new"}, "supplier": {"url": "s"}})
    assert creds == {"urls": {"admin": "a", "demo_shop": "d"}, "broker": {"email": "b@x", "publishable_key": "new"},
                     "supplier": {"url": "s"}}
