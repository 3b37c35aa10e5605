from decimal import Decimal

import pytest
from django.contrib.auth.hashers import check_password
from django.test import override_settings

from tradeline.audit.models import ActivityLog
from tradeline.brokers import services
from tradeline.brokers.auth import broker_for_key
from tradeline.brokers.models import Broker, BrokerApiKey, BrokerStatus, KeyKind, MarkupType
from tradeline.core.errors import Conflict, NotFound, ValidationFailed

pytestmark = pytest.mark.django_db


def _create(**kw):
    kw.setdefault("name", "Ann Broker")
    kw.setdefault("email", "ann@example.com")
    return services.broker_create(**kw)


def test_create_is_pending_with_default_share_and_logged(admin_user):
    broker = _create(email="  Ann@Example.com ", business_name="Ann Credit", actor_user=admin_user)
    broker.refresh_from_db()
    assert broker.status == BrokerStatus.PENDING
    assert broker.revenue_share_percent == Decimal("10.00")
    assert broker.email == "ann@example.com"
    assert broker.business_name == "Ann Credit"
    assert not broker.api_keys.exists()
    log = ActivityLog.objects.get(action="broker.created")
    assert (log.entity_id, log.actor_user, log.broker) == (str(broker.pk), admin_user, broker)


@pytest.mark.parametrize("share", ["9.99", "25.01", "0", "100", "-5", "abc", "12.345"])
def test_create_refuses_share_outside_range(share):
    with pytest.raises(ValidationFailed) as caught:
        _create(revenue_share_percent=share)
    assert caught.value.status == 422
    assert caught.value.code in {"SHARE_OUT_OF_RANGE", "VALIDATION_ERROR"}
    assert caught.value.details[0]["field"] == "revenue_share_percent"
    assert not Broker.objects.exists()


def test_create_share_bounds_are_inclusive_and_configurable():
    assert _create(email="a@example.com", revenue_share_percent="25").revenue_share_percent == Decimal("25")
    assert _create(email="b@example.com", revenue_share_percent=Decimal("10")).revenue_share_percent == 10
    with override_settings(BROKER_SHARE_MAX=Decimal("30")):
        assert _create(email="c@example.com", revenue_share_percent="30").revenue_share_percent == 30


def test_create_refuses_duplicate_email_and_bad_input():
    _create()
    with pytest.raises(Conflict) as caught:
        _create(email="ANN@example.com")
    assert caught.value.code == "BROKER_EMAIL_TAKEN"
    with pytest.raises(ValidationFailed) as caught:
        _create(email="not-an-email")
    assert caught.value.code == "INVALID_EMAIL"
    with pytest.raises(ValidationFailed):
        _create(email="z@example.com", name="   ")
    with pytest.raises(ValidationFailed) as caught:
        _create(email="z@example.com", website="javascript:alert(1)")
    assert caught.value.code == "INVALID_URL"
    assert Broker.objects.count() == 1


def test_approve_records_who_and_when(admin_user):
    broker = _create()
    approved = services.broker_approve(broker_id=broker.pk, actor_user=admin_user)
    broker.refresh_from_db()
    assert broker.status == BrokerStatus.ACTIVE
    assert broker.approved_by == admin_user
    assert broker.approved_at is not None and broker.approved_at == approved.approved_at
    log = ActivityLog.objects.get(action="broker.approved")
    assert log.metadata == {"from": "PENDING", "to": "ACTIVE"}


def test_state_machine_allows_and_refuses_transitions(admin_user):
    broker = _create()
    with pytest.raises(Conflict) as caught:
        services.broker_suspend(broker_id=broker.pk, actor_user=admin_user)  # PENDING cannot be suspended
    assert caught.value.code == "INVALID_BROKER_TRANSITION"
    assert caught.value.details == {"status": "PENDING", "to": "SUSPENDED"}
    services.broker_approve(broker_id=broker.pk, actor_user=admin_user)
    with pytest.raises(Conflict):
        services.broker_approve(broker_id=broker.pk, actor_user=admin_user)  # already ACTIVE
    services.broker_suspend(broker_id=broker.pk, actor_user=admin_user, reason="chargebacks")
    assert Broker.objects.get(pk=broker.pk).status == BrokerStatus.SUSPENDED
    with pytest.raises(Conflict):
        services.broker_suspend(broker_id=broker.pk, actor_user=admin_user)
    services.broker_deactivate(broker_id=broker.pk, actor_user=admin_user)
    with pytest.raises(Conflict):
        services.broker_deactivate(broker_id=broker.pk, actor_user=admin_user)
    assert Broker.objects.get(pk=broker.pk).status == BrokerStatus.INACTIVE
    services.broker_approve(broker_id=broker.pk, actor_user=admin_user)  # reinstated
    actions = list(ActivityLog.objects.filter(entity_id=str(broker.pk)).order_by("created_at")
                   .values_list("action", flat=True))
    assert actions == ["broker.created", "broker.approved", "broker.suspended", "broker.deactivated",
                       "broker.approved"]
    assert ActivityLog.objects.get(action="broker.suspended").metadata["reason"] == "chargebacks"


def test_unknown_broker_is_404():
    with pytest.raises(NotFound):
        services.broker_approve(broker_id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFound):
        services.broker_set_share(broker_id="not-a-uuid", percent="12")


def test_set_share_validates_and_logs(admin_user, make_broker):
    broker = make_broker()
    services.broker_set_share(broker_id=broker.pk, percent="12.5", actor_user=admin_user)
    assert Broker.objects.get(pk=broker.pk).revenue_share_percent == Decimal("12.50")
    with pytest.raises(ValidationFailed) as caught:
        services.broker_set_share(broker_id=broker.pk, percent="26", actor_user=admin_user)
    assert caught.value.code == "SHARE_OUT_OF_RANGE"
    assert Broker.objects.get(pk=broker.pk).revenue_share_percent == Decimal("12.50")
    assert ActivityLog.objects.get(action="broker.share_set").metadata == {"from": "10.00", "to": "12.5"}


def test_update_settings_changes_markup_profile_and_origins(make_broker):
    broker = make_broker()
    services.broker_update_settings(broker=broker, markup_type=MarkupType.FIXED, markup_fixed=2500,
                                    business_name=" Shop LLC ",
                                    allowed_origins=["https://Shop.Example.com", "http://localhost:3000/",
                                                     "https://shop.example.com:443"])
    broker.refresh_from_db()
    assert (broker.markup_type, broker.markup_fixed, broker.business_name) == ("FIXED", 2500, "Shop LLC")
    assert broker.allowed_origins == ["https://shop.example.com", "http://localhost:3000"]
    log = ActivityLog.objects.get(action="broker.settings_updated")
    assert log.actor_type == "BROKER"
    assert log.metadata["changes"]["markup_fixed"] == ["0", "2500"]


@pytest.mark.parametrize("fields, code", [
    ({"revenue_share_percent": "25"}, "FIELD_NOT_ALLOWED"),
    ({"status": "ACTIVE"}, "FIELD_NOT_ALLOWED"),
    ({"email": "x@example.com"}, "FIELD_NOT_ALLOWED"),
    ({"id": "00000000-0000-0000-0000-000000000000"}, "FIELD_NOT_ALLOWED"),
    ({"markup_percent": "100.5"}, "MARKUP_OUT_OF_RANGE"),
    ({"markup_percent": "-1"}, "MARKUP_OUT_OF_RANGE"),
    ({"markup_percent": "1.2345"}, "VALIDATION_ERROR"),
    ({"markup_fixed": -1}, "MARKUP_OUT_OF_RANGE"),
    ({"markup_fixed": 12.5}, "VALIDATION_ERROR"),
    ({"markup_type": "BOTH"}, "VALIDATION_ERROR"),
    ({"allowed_origins": ["https://shop.example.com/path"]}, "INVALID_ORIGIN"),
    ({"allowed_origins": ["*"]}, "INVALID_ORIGIN"),
    ({"allowed_origins": "https://shop.example.com"}, "VALIDATION_ERROR"),
])
def test_update_settings_refuses_forbidden_or_invalid_fields(make_broker, fields, code):
    broker = make_broker(share="12")
    with pytest.raises(ValidationFailed) as caught:
        services.broker_update_settings(broker=broker, **{"markup_percent": "5", **fields})
    assert caught.value.code == code
    broker.refresh_from_db()
    assert (broker.revenue_share_percent, broker.status, broker.markup_percent) == (Decimal("12"), "ACTIVE",
                                                                                      Decimal("20"))
    assert not ActivityLog.objects.filter(action="broker.settings_updated").exists()


def test_rotate_issues_both_keys_once_and_stores_only_hashes(make_broker):
    broker = make_broker()
    issued = services.broker_keys_rotate(broker_id=broker.pk)
    assert issued["publishable_key"].startswith("tlm_pk_")
    assert issued["secret_key"].startswith("tlm_sk_")
    rows = {row.kind: row for row in BrokerApiKey.objects.filter(broker=broker)}
    assert set(rows) == {KeyKind.PUBLISHABLE, KeyKind.SECRET}
    for kind, name in ((KeyKind.PUBLISHABLE, "publishable_key"), (KeyKind.SECRET, "secret_key")):
        assert issued[name].startswith(rows[kind].prefix + "_")
        assert issued[name] not in rows[kind].key_hash
        assert len(rows[kind].key_hash) == 64
    assert broker_for_key(issued["secret_key"]) == (broker, KeyKind.SECRET)


def test_rotate_one_kind_revokes_the_old_key_at_once(django_capture_on_commit_callbacks, make_broker):
    broker = make_broker()
    first = services.broker_keys_rotate(broker_id=broker.pk)
    assert broker_for_key(first["secret_key"]) is not None  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        second = services.broker_keys_rotate(broker_id=broker.pk, kind=KeyKind.SECRET)
    assert set(second) == {"secret_key"}
    assert broker_for_key(first["secret_key"]) is None
    assert broker_for_key(second["secret_key"]) == (broker, KeyKind.SECRET)
    assert broker_for_key(first["publishable_key"]) == (broker, KeyKind.PUBLISHABLE)
    assert BrokerApiKey.objects.filter(broker=broker, revoked_at__isnull=True).count() == 2
    assert BrokerApiKey.objects.filter(broker=broker, revoked_at__isnull=False).count() == 1


def test_revoke_key_of_another_broker_is_404_and_repeat_is_409(django_capture_on_commit_callbacks, make_broker):
    mine, other = make_broker(), make_broker()
    services.broker_keys_rotate(broker_id=mine.pk)
    other_keys = services.broker_keys_rotate(broker_id=other.pk)
    other_secret = BrokerApiKey.objects.get(broker=other, kind=KeyKind.SECRET)
    with pytest.raises(NotFound):
        services.broker_key_revoke(broker_id=mine.pk, key_id=other_secret.pk)
    assert BrokerApiKey.objects.get(pk=other_secret.pk).revoked_at is None
    broker_for_key(other_keys["secret_key"])  # cached
    with django_capture_on_commit_callbacks(execute=True):
        services.broker_key_revoke(broker_id=other.pk, key_id=other_secret.pk)
    assert broker_for_key(other_keys["secret_key"]) is None
    with pytest.raises(Conflict) as caught:
        services.broker_key_revoke(broker_id=other.pk, key_id=other_secret.pk)
    assert caught.value.code == "KEY_ALREADY_REVOKED"


def test_onboard_creates_keys_and_can_activate(admin_user):
    broker, issued = services.broker_onboard(name="B", email="b@example.com", active=True, actor_user=admin_user)
    assert broker.status == BrokerStatus.ACTIVE
    assert set(issued) == {"publishable_key", "secret_key"}
    assert broker_for_key(issued["publishable_key"]) == (broker, KeyKind.PUBLISHABLE)


def test_portal_password_and_authentication(make_broker):
    broker = make_broker(email="Shop@Example.com")
    assert services.broker_authenticate(email="shop@example.com", password="anything-at-all") is None
    with pytest.raises(ValidationFailed) as caught:
        services.broker_set_password(broker_id=broker.pk, password="short")
    assert caught.value.code == "WEAK_PASSWORD"
    services.broker_set_password(broker_id=broker.pk, password="a-long-portal-pass")
    broker.refresh_from_db()
    assert broker.password.startswith(("pbkdf2_", "argon2", "bcrypt", "scrypt", "md5"))
    assert check_password("a-long-portal-pass", broker.password)
    assert services.broker_authenticate(email="SHOP@example.com ", password="a-long-portal-pass") == broker
    assert services.broker_authenticate(email="shop@example.com", password="wrong-password!") is None
    assert services.broker_authenticate(email="nobody@example.com", password="a-long-portal-pass") is None
    services.broker_deactivate(broker_id=broker.pk)
    assert services.broker_authenticate(email="shop@example.com", password="a-long-portal-pass") is None


def test_admin_update_combines_share_status_and_profile(admin_user, make_broker):
    broker = make_broker(status=BrokerStatus.PENDING)
    services.broker_admin_update(broker_id=broker.pk, actor_user=admin_user, revenue_share_percent="15",
                                 status="ACTIVE", notes="VIP", email="New@Example.com")
    broker.refresh_from_db()
    assert (broker.revenue_share_percent, broker.status, broker.notes, broker.email) == (
        Decimal("15"), "ACTIVE", "VIP", "new@example.com")
    assert broker.approved_by == admin_user
    services.broker_admin_update(broker_id=broker.pk, actor_user=admin_user, status="INACTIVE")
    with pytest.raises(Conflict):  # INACTIVE cannot be suspended: the share change is rolled back too
        services.broker_admin_update(broker_id=broker.pk, actor_user=admin_user, status="SUSPENDED",
                                     revenue_share_percent="16")
    broker.refresh_from_db()
    assert (broker.status, broker.revenue_share_percent) == ("INACTIVE", Decimal("15"))


def test_revoked_key_cannot_be_put_back_in_the_cache_by_a_late_reader(make_broker):
    from django.core.cache import cache

    from tradeline.brokers.auth import forget_key, key_cache_key

    broker = make_broker()
    issued = services.broker_keys_rotate(broker_id=broker.pk)
    row = BrokerApiKey.objects.get(broker=broker, kind=KeyKind.SECRET)
    stale_entry = {"key_hash": row.key_hash, "broker_id": str(broker.pk), "kind": row.kind}
    BrokerApiKey.objects.filter(pk=row.pk).update(revoked_at=row.created_at)
    forget_key(row.prefix)  # what the revoke's on_commit does
    # a request that read the row just before the revoke committed now tries to cache it
    assert cache.add(key_cache_key(row.prefix), stale_entry, 60) is False
    assert broker_for_key(issued["secret_key"]) is None
