from decimal import Decimal

import pytest

from tradeline.audit.models import ActivityLog
from tradeline.brokers.auth import broker_for_key
from tradeline.brokers.models import Broker, BrokerApiKey, BrokerStatus, KeyKind
from tradeline.brokers.services import broker_authenticate

pytestmark = pytest.mark.django_db
JSON = "application/json"


def test_admin_creates_a_broker_and_sees_its_keys_once(client, admin_headers):
    auth = admin_headers()
    response = client.post("/api/admin/brokers", {"name": "Ann", "email": "Ann@Example.com",
                                                  "business_name": "Ann Credit", "website": "https://ann.example/"},
                           content_type=JSON, **auth)
    assert response.status_code == 201
    body = response.json()
    broker = Broker.objects.get()
    assert body["broker"]["id"] == str(broker.pk)
    assert (body["broker"]["status"], body["broker"]["revenue_share_percent"]) == ("PENDING", "10.00")
    assert broker_for_key(body["keys"]["secret_key"]) == (broker, KeyKind.SECRET)
    assert broker_for_key(body["keys"]["publishable_key"]) == (broker, KeyKind.PUBLISHABLE)
    detail = client.get(f"/api/admin/brokers/{broker.pk}", **auth)
    text = detail.content.decode()
    assert body["keys"]["secret_key"] not in text and body["keys"]["publishable_key"] not in text
    assert {k["kind"] for k in detail.json()["keys"]} == {"PUBLISHABLE", "SECRET"}


@pytest.mark.parametrize("share", ["9", "30", "10.001"])
def test_create_with_share_out_of_range_is_422_and_creates_nothing(client, admin_headers, share):
    response = client.post("/api/admin/brokers", {"name": "A", "email": "a@example.com",
                                                  "revenue_share_percent": share},
                           content_type=JSON, **admin_headers())
    assert response.status_code == 422
    assert response.json()["code"] in {"SHARE_OUT_OF_RANGE", "VALIDATION_ERROR"}
    assert response.json()["details"][0]["field"] == "revenue_share_percent"
    assert not Broker.objects.exists()


def test_create_with_taken_email_is_409(client, admin_headers, make_broker):
    make_broker(email="taken@example.com")
    response = client.post("/api/admin/brokers", {"name": "A", "email": "TAKEN@example.com"}, content_type=JSON,
                           **admin_headers())
    assert response.status_code == 409
    assert response.json()["code"] == "BROKER_EMAIL_TAKEN"
    assert Broker.objects.count() == 1


def test_list_filters_and_paginates(client, admin_headers, make_broker):
    for i in range(5):
        make_broker(name=f"Alpha {i}", status=BrokerStatus.ACTIVE)
    make_broker(name="Beta", business_name="Zeta Credit", status=BrokerStatus.PENDING, email="beta@zeta.example")
    auth = admin_headers()
    page = client.get("/api/admin/brokers?status=ACTIVE&limit=2&page=2", **auth).json()
    assert [b["name"] for b in page["brokers"]] == ["Alpha 2", "Alpha 3"]
    assert page["pagination"] == {"page": 2, "limit": 2, "total": 5, "pages": 3}
    found = client.get("/api/admin/brokers?search=zeta", **auth).json()
    assert [b["name"] for b in found["brokers"]] == ["Beta"]
    assert client.get("/api/admin/brokers?status=PENDING", **auth).json()["pagination"]["total"] == 1
    bad = client.get("/api/admin/brokers?status=NOPE&limit=1000", **auth)
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["details"]} == {"query.status", "query.limit"}


def test_patch_share_status_and_profile(client, admin_headers, make_broker):
    broker = make_broker(status=BrokerStatus.PENDING)
    response = client.patch(f"/api/admin/brokers/{broker.pk}",
                            {"revenue_share_percent": "17.5", "status": "ACTIVE", "notes": "met at expo",
                             "markup_type": "FIXED", "markup_fixed": 12345},
                            content_type=JSON, **admin_headers())
    assert response.status_code == 200
    body = response.json()
    assert (body["revenue_share_percent"], body["status"], body["notes"]) == ("17.50", "ACTIVE", "met at expo")
    assert (body["markup_fixed"], body["markup_fixed_usd"]) == (12345, "123.45")
    assert body["approved_by"] is not None and body["approved_at"] is not None


def test_transitions_through_endpoints_and_409(client, admin_headers, make_broker):
    broker = make_broker(status=BrokerStatus.PENDING)
    auth = admin_headers()
    url = f"/api/admin/brokers/{broker.pk}"
    suspend = client.post(f"{url}/suspend", {"reason": "x"}, content_type=JSON, **auth)
    assert suspend.status_code == 409
    assert suspend.json()["code"] == "INVALID_BROKER_TRANSITION"
    assert client.post(f"{url}/approve", content_type=JSON, **auth).json()["status"] == "ACTIVE"
    assert client.post(f"{url}/suspend", {"reason": "fraud check"}, content_type=JSON, **auth).json()["status"] == \
        "SUSPENDED"
    assert client.post(f"{url}/deactivate", content_type=JSON, **auth).json()["status"] == "INACTIVE"
    assert client.post(f"{url}/deactivate", content_type=JSON, **auth).status_code == 409
    assert Broker.objects.get(pk=broker.pk).status == "INACTIVE"
    missing = client.post("/api/admin/brokers/00000000-0000-0000-0000-000000000000/approve", content_type=JSON,
                          **auth)
    assert missing.status_code == 404
    assert client.get("/api/admin/brokers/not-a-uuid", **auth).status_code == 404


def test_rotate_one_kind_and_revoke_via_admin(client, admin_headers, keyed_broker, django_capture_on_commit_callbacks):
    broker, issued = keyed_broker()
    auth = admin_headers()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/admin/brokers/{broker.pk}/rotate-keys", {"kind": "PUBLISHABLE"},
                               content_type=JSON, **auth)
    body = response.json()
    assert set(k for k, v in body["keys"].items() if v) == {"publishable_key"}
    assert broker_for_key(issued["publishable_key"]) is None
    assert broker_for_key(issued["secret_key"]) == (broker, KeyKind.SECRET)
    keys = client.get(f"/api/admin/brokers/{broker.pk}/keys", **auth).json()
    assert [(k["kind"], k["revoked_at"] is None) for k in keys][-1] == ("PUBLISHABLE", False)
    assert sum(1 for k in keys if k["revoked_at"] is None) == 2
    bad_kind = client.post(f"/api/admin/brokers/{broker.pk}/rotate-keys", {"kind": "MASTER"}, content_type=JSON,
                           **auth)
    assert bad_kind.status_code == 422
    other, _ = keyed_broker()
    other_key = BrokerApiKey.objects.filter(broker=other).first()
    cross = client.post(f"/api/admin/brokers/{broker.pk}/keys/{other_key.pk}/revoke", content_type=JSON, **auth)
    assert cross.status_code == 404
    assert BrokerApiKey.objects.get(pk=other_key.pk).revoked_at is None


def test_admin_sets_portal_password(client, admin_headers, make_broker):
    broker = make_broker(email="portal@example.com")
    auth = admin_headers()
    weak = client.post(f"/api/admin/brokers/{broker.pk}/password", {"password": "123"}, content_type=JSON, **auth)
    assert weak.status_code == 422
    assert weak.json()["code"] == "WEAK_PASSWORD"
    ok = client.post(f"/api/admin/brokers/{broker.pk}/password", {"password": "portal-password-1"},
                     content_type=JSON, **auth)
    assert ok.status_code == 204
    assert broker_authenticate(email="portal@example.com", password="portal-password-1") == broker


def test_broker_updates_its_settings(client, keyed_broker):
    broker, issued = keyed_broker()
    response = client.patch("/api/brokers/me", {"markup_type": "PERCENTAGE", "markup_percent": "12.5",
                                                "allowed_origins": ["https://shop.example.com"],
                                                "website": "https://shop.example.com/tradelines"},
                            content_type=JSON, HTTP_X_API_KEY=issued["secret_key"])
    assert response.status_code == 200
    body = response.json()
    assert (body["markup_percent"], body["allowed_origins"]) == ("12.500", ["https://shop.example.com"])
    broker.refresh_from_db()
    assert broker.markup_percent == Decimal("12.5")


@pytest.mark.parametrize("field, value", [
    ("revenue_share_percent", "25"), ("status", "ACTIVE"), ("id", "00000000-0000-0000-0000-000000000001"),
    ("email", "new@example.com"), ("approved_at", "2020-01-01T00:00:00Z"), ("password", "x"),
])
def test_mass_assignment_on_me_is_422_and_changes_nothing(client, keyed_broker, field, value):
    broker, issued = keyed_broker(status=BrokerStatus.ACTIVE, share="11")
    before = Broker.objects.filter(pk=broker.pk).values().get()
    response = client.patch("/api/brokers/me", {"markup_percent": "50", field: value}, content_type=JSON,
                            HTTP_X_API_KEY=issued["secret_key"])
    assert response.status_code == 422
    assert response.json()["details"] == [{"field": field, "message": "Extra inputs are not permitted",
                                           "type": "extra_forbidden"}]
    assert Broker.objects.filter(pk=broker.pk).values().get() == before
    assert not ActivityLog.objects.filter(action="broker.settings_updated").exists()


@pytest.mark.parametrize("payload", [
    {"markup_percent": "100.01"}, {"markup_percent": -1}, {"markup_fixed": -5}, {"markup_fixed": 1.5},
    {"markup_fixed": "100"}, {"markup_type": "BOTH"}, {"allowed_origins": ["ftp://x.example"]},
    {"allowed_origins": "https://x.example"}, {"name": ""}, {"website": "not a url"},
])
def test_invalid_settings_are_422_with_field(client, keyed_broker, payload):
    broker, issued = keyed_broker()
    response = client.patch("/api/brokers/me", payload, content_type=JSON, HTTP_X_API_KEY=issued["secret_key"])
    assert response.status_code == 422, response.content
    assert response.json()["details"][0]["field"] == next(iter(payload))
    assert Broker.objects.get(pk=broker.pk).markup_percent == Decimal("20")
