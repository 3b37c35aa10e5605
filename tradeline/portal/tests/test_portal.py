import pytest
from django.test import Client

from tradeline.brokers.keys import hash_key
from tradeline.brokers.models import BrokerApiKey, BrokerStatus, MarkupType
from tradeline.brokers.services import broker_set_password
from tradeline.catalog.models import Tradeline
from tradeline.payouts.models import Payout

PASSWORD = "portal-pass-12345"


pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.fixture
def broker(make_broker):
    broker = make_broker(email="dana@broker.test", share="10", markup_percent="20")
    broker_set_password(broker_id=broker.pk, password=PASSWORD)
    broker.refresh_from_db()
    return broker


@pytest.fixture
def portal(client, broker):
    response = client.post("/portal/login/", {"email": "dana@broker.test", "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.mark.django_db
def test_login_with_wrong_password_is_refused(client, broker):
    response = client.post("/portal/login/", {"email": "dana@broker.test", "password": "wrong-password-1"})
    assert response.status_code == 400
    assert "do not match" in response.content.decode()
    assert client.get("/portal/").status_code == 302


@pytest.mark.django_db
def test_login_is_throttled_per_email(client, broker, settings):
    settings.RATE_LIMIT_LOGIN = "3/300"
    codes = [client.post("/portal/login/", {"email": "dana@broker.test", "password": "nope-nope-nope"}).status_code
             for _ in range(4)]
    assert codes == [400, 400, 400, 429]
    # Even the right password waits out the window.
    right = client.post("/portal/login/", {"email": "dana@broker.test", "password": PASSWORD})
    assert right.status_code == 429
    assert client.get("/portal/").status_code == 302


@pytest.mark.django_db
def test_login_needs_csrf_token(broker):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/portal/login/", {"email": "dana@broker.test", "password": PASSWORD})
    assert response.status_code == 403
    assert strict.get("/portal/").status_code == 302


@pytest.mark.django_db
def test_portal_session_is_separate_from_the_admin(portal):
    assert portal.get("/portal/").status_code == 200
    admin = portal.get("/admin/")
    assert admin.status_code == 302 and admin["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_suspended_broker_sees_the_notice_and_a_deactivated_one_is_signed_out(portal, broker):
    from tradeline.brokers.services import broker_deactivate, broker_suspend

    broker_suspend(broker_id=broker.pk)
    response = portal.get("/portal/")
    assert response.status_code == 200
    assert "Your account is suspended" in response.content.decode()
    broker_deactivate(broker_id=broker.pk)
    assert portal.get("/portal/").status_code == 302


@pytest.mark.django_db
def test_logout_needs_post(portal):
    assert portal.get("/portal/logout/").status_code == 405
    portal.post("/portal/logout/")
    assert portal.get("/portal/").status_code == 302


@pytest.mark.django_db
def test_broker_sees_only_its_own_orders(portal, broker, make_broker, make_order):
    mine = make_order(broker=broker, customer_email="mine@example.com")
    theirs = make_order(broker=make_broker(), customer_email="theirs@example.com")

    html = portal.get("/portal/orders/").content.decode()
    assert mine.order_number in html and theirs.order_number not in html
    assert portal.get(f"/portal/orders/{mine.pk}/").status_code == 200
    assert portal.get(f"/portal/orders/{theirs.pk}/").status_code == 404
    assert portal.get("/portal/orders/not-a-uuid/").status_code == 404


@pytest.mark.django_db
def test_dashboard_renders_figures_in_dollars(portal, broker, make_order):
    from tradeline.payments.services import manual_payment_record
    from tradeline.testing.factories import make_admin

    order = make_order(broker=broker, prices=(100_000,))
    manual_payment_record(order_id=order.pk, method="CASH", reference="R-1", admin=make_admin())

    html = portal.get("/portal/").content.decode()
    assert '<div class="value" id="sales-30">$1,200.00</div>' in html
    assert '<div class="value" id="earn-pending">$300.00</div>' in html
    assert '<div class="value" id="earn-paid">$0.00</div>' in html
    assert 'class="tl-chart"' in html


@pytest.mark.django_db
def test_other_brokers_payouts_are_not_found(portal, make_broker):
    from datetime import UTC, datetime

    other = make_broker()
    payout = Payout.objects.create(broker=other, period_start=datetime(2026, 9, 1, tzinfo=UTC),
                                   period_end=datetime(2026, 10, 1, tzinfo=UTC), total_revenue_share=100,
                                   total_markup=0, total_amount=100)
    assert portal.get(f"/portal/payouts/{payout.pk}/").status_code == 404
    assert portal.get(f"/portal/payouts/{payout.pk}/report.csv").status_code == 404
    assert str(payout.pk) not in portal.get("/portal/payouts/").content.decode()


def _tradeline(card_id: str, price: int) -> Tradeline:
    from django.utils import timezone

    return Tradeline.objects.create(card_id=card_id, bank_name=f"Bank {card_id}", price=price, stock=3,
                                    credit_limit=1_000_000, synced_at=timezone.now())


@pytest.mark.django_db
def test_markup_preview_is_priced_by_the_engine(portal):
    _tradeline("c1", 33_333)  # P = $333.33
    response = portal.get("/portal/settings/preview", {"markup_type": "PERCENTAGE", "markup_percent": "7.5"})
    assert response.status_code == 200
    row = response.json()["rows"][0]
    # share 10% of 33333 = 3333.3 -> 3333; markup 7.5% = 2499.975 -> 2500
    assert (row["customer_price"], row["revenue_share"], row["markup"], row["earnings"]) == (35_833, 3_333, 2_500, 5_833)
    assert row["customer_price_usd"] == "358.33"

    fixed = portal.get("/portal/settings/preview", {"markup_type": "FIXED", "markup_fixed_usd": "50"}).json()
    assert fixed["rows"][0]["customer_price"] == 38_333

    for bad in ({"markup_type": "PERCENTAGE", "markup_percent": "101"},
                {"markup_type": "PERCENTAGE", "markup_percent": "abc"},
                {"markup_type": "FIXED", "markup_fixed_usd": "-1"},
                {"markup_type": "WEIRD"}):
        assert portal.get("/portal/settings/preview", bad).status_code == 422, bad


@pytest.mark.django_db
def test_markup_settings_save_through_the_service(portal, broker):
    response = portal.post("/portal/settings/", {"markup_type": "FIXED", "markup_fixed_usd": "149.99"})
    assert response.status_code == 302
    broker.refresh_from_db()
    assert (broker.markup_type, broker.markup_fixed) == (MarkupType.FIXED, 14_999)

    bad = portal.post("/portal/settings/", {"markup_type": "PERCENTAGE", "markup_percent": "150"})
    assert bad.status_code == 200
    broker.refresh_from_db()
    assert (broker.markup_type, broker.markup_fixed) == (MarkupType.FIXED, 14_999)


@pytest.mark.django_db
def test_key_rotation_shows_new_keys_once(portal, broker):
    response = portal.post("/portal/keys/", {"kind": "PUBLISHABLE"})
    html = response.content.decode()
    live = BrokerApiKey.objects.get(broker=broker, kind="PUBLISHABLE", revoked_at__isnull=True)
    start = html.index('<div class="key">') + len('<div class="key">')
    shown = html[start:html.index("<", start)]
    assert shown.startswith("tlm_pk_") and hash_key(shown) == live.key_hash
    assert f'data-key="{shown}"' in html.replace("&quot;", '"')
    assert shown not in portal.get("/portal/keys/").content.decode()


@pytest.mark.django_db
def test_pending_broker_can_sign_in_and_sees_the_notice(client, make_broker):
    broker = make_broker(status=BrokerStatus.PENDING, email="new@broker.test")
    broker_set_password(broker_id=broker.pk, password=PASSWORD)
    client.post("/portal/login/", {"email": "new@broker.test", "password": PASSWORD})
    response = client.get("/portal/")
    assert response.status_code == 200
    assert "waiting for approval" in response.content.decode()


@pytest.mark.django_db
def test_embed_page_shows_the_script_tag(portal, settings):
    html = portal.get("/portal/embed/").content.decode()
    assert (f"&lt;script src=&quot;{settings.PUBLIC_BASE_URL}/widget.js&quot; "
            "data-key=&quot;YOUR_PUBLISHABLE_KEY&quot;&gt;&lt;/script&gt;") in html


@pytest.mark.django_db
def test_order_filter_chips_use_the_status_labels(portal):
    html = portal.get("/portal/orders/").content.decode()

    assert '<a href="?status=ON_HOLD" class="">On hold</a>' in html
    assert "On_hold" not in html


@pytest.mark.django_db
def test_admin_index_names_daily_stats_in_plain_english(admin_client):
    html = admin_client.get("/admin/").content.decode()

    assert "Broker daily stats<" in html
    assert "statss" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("amount, status", [("5000", 200), ("5000.01", 422), ("99999", 422)])
def test_fixed_markup_is_capped_at_the_documented_maximum_in_the_preview(portal, amount, status):
    _tradeline("c1", 33_333)

    response = portal.get("/portal/settings/preview", {"markup_type": "FIXED", "markup_fixed_usd": amount})

    assert response.status_code == status
    if status == 422:
        assert response.json()["error"] == "The fixed markup must be between $0.00 and $5,000.00 per tradeline."


@pytest.mark.django_db
def test_fixed_markup_above_the_maximum_is_not_saved(portal, broker):
    response = portal.post("/portal/settings/", {"markup_type": "FIXED", "markup_fixed_usd": "99999"})

    assert response.status_code == 200
    assert "The fixed markup must be between $0.00 and $5,000.00 per tradeline." in response.content.decode()
    assert "At most $5,000.00 per tradeline." in response.content.decode()
    broker.refresh_from_db()
    assert (broker.markup_type, str(broker.markup_percent), broker.markup_fixed) == ("PERCENTAGE", "20.000", 0)


@pytest.mark.django_db
def test_fixed_markup_cap_holds_for_the_api_too(broker):
    from tradeline.brokers.services import broker_update_settings
    from tradeline.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        broker_update_settings(broker=broker, markup_type="FIXED", markup_fixed=500_001)

    assert refused.value.code == "MARKUP_OUT_OF_RANGE"
    broker.refresh_from_db()
    assert (broker.markup_type, broker.markup_fixed) == ("PERCENTAGE", 0)


@pytest.mark.django_db
def test_rotating_the_publishable_key_in_the_portal_keeps_the_demo_page_working(portal, broker, client):
    from tradeline.brokers.services import broker_keys_rotate
    from tradeline.widget.services import demo_page_set

    old = broker_keys_rotate(broker_id=broker.pk)["publishable_key"]
    demo_page_set(broker=broker, publishable_key=old)

    response = portal.post("/portal/keys/", {"kind": "PUBLISHABLE"})

    new = response.context["new_keys"]["publishable_key"]
    assert new != old
    page = client.get("/demo/").content.decode()
    assert f'data-key="{new}"' in page and old not in page
    assert 'id="key-revoked"' not in page


@pytest.mark.django_db
def test_demo_page_says_when_its_key_was_revoked_elsewhere(broker, client, django_capture_on_commit_callbacks):
    from tradeline.brokers.services import broker_keys_rotate
    from tradeline.widget.services import demo_page_set

    demo_page_set(broker=broker, publishable_key=broker_keys_rotate(broker_id=broker.pk)["publishable_key"])
    assert 'id="key-revoked"' not in client.get("/demo/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        broker_keys_rotate(broker_id=broker.pk, kind="PUBLISHABLE")  # e.g. through the API

    assert 'id="key-revoked"' in client.get("/demo/").content.decode()
