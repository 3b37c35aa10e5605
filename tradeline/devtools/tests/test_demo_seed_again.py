"""A second `make run` seeds only what is missing: data, credentials and sessions survive it."""

import json

import pytest

from tradeline.brokers.models import Broker
from tradeline.devtools.demo import credentials_path, seed_demo
from tradeline.orders.models import Order
from tradeline.widget.models import DemoPage

ENV = {"PUBLIC_BASE_URL": "http://127.0.0.1:18400", "DEMO_ADMIN_PASSWORD": "demo-admin-pass-1",
       "DEMO_BROKER_PASSWORD": "demo-broker-pass-1", "DEMO_HISTORY_MONTHS": "1"}


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_second_seed_keeps_data_credentials_and_sessions(var_dir, supplier_sim, client):
    first = seed_demo(ENV)
    broker = Broker.objects.get(email="broker@demo.local")
    orders = Order.objects.count()
    assert client.login(username="admin@demo.local", password="demo-admin-pass-1")
    assert client.get("/admin/").status_code == 200
    portal = client.__class__()
    portal.post("/portal/login/", {"email": "broker@demo.local", "password": "demo-broker-pass-1"})
    assert portal.get("/portal/").status_code == 200
    page_key = DemoPage.objects.get().publishable_key

    second = seed_demo(ENV)

    assert second == first
    assert json.loads(credentials_path().read_text()) == first
    assert Order.objects.count() == orders
    assert DemoPage.objects.get().publishable_key == page_key
    broker.refresh_from_db()
    assert broker.api_keys.filter(revoked_at__isnull=True).count() == 2
    assert client.get("/admin/").status_code == 200  # nobody was logged out
    assert portal.get("/portal/").status_code == 200


@pytest.mark.django_db
def test_seed_reports_a_password_changed_in_the_app_without_resetting_it(var_dir, supplier_sim):
    from django.contrib.auth import get_user_model

    seed_demo(ENV)
    admin = get_user_model().objects.get(username="admin@demo.local")
    admin.set_password("my-own-password-2")
    admin.save()

    again = seed_demo(ENV)

    admin.refresh_from_db()
    assert admin.check_password("my-own-password-2")
    assert again["admin"]["password"] == "(changed in the app since the first run; not reset)"


@pytest.mark.django_db
def test_demo_page_follows_a_key_rotated_in_the_portal_across_a_restart(var_dir, supplier_sim, client):
    first = seed_demo(ENV)
    client.post("/portal/login/", {"email": "broker@demo.local", "password": "demo-broker-pass-1"})
    rotated = client.post("/portal/keys/", {"kind": "PUBLISHABLE"}).context["new_keys"]["publishable_key"]

    again = seed_demo(ENV)

    assert DemoPage.objects.get().publishable_key == rotated
    assert again["broker"]["publishable_key"] == rotated
    assert again["broker"]["secret_key"] == first["broker"]["secret_key"]
