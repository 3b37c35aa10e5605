"""Names and other free text with control characters are refused at the API (422), before any
service runs; notes may keep their line breaks."""

import pytest

from tradeline.brokers.models import Broker

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.mark.parametrize("name", ["Acme\nLtd", "Acme\r\nSet-Cookie: x", "Acme\x00", "Acme\x1b[31m", "evil\u202ecod.exe",
                                  "tab\tname", "line\u2028sep"])
def test_admin_broker_create_refuses_control_characters(client, admin_headers, name):
    response = client.post("/api/admin/brokers", {"name": name, "email": "a@example.com"}, content_type=JSON,
                           **admin_headers())
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert body["details"][0]["field"] == "name"
    assert "control characters" in body["details"][0]["message"]
    assert not Broker.objects.exists()


def test_broker_settings_refuse_control_characters_and_change_nothing(client, keyed_broker):
    broker, issued = keyed_broker(name="Dana", business_name="Dana Credit")
    for field in ("name", "business_name", "phone", "website"):
        response = client.patch("/api/brokers/me", {field: "x\ny"}, content_type=JSON,
                                HTTP_X_API_KEY=issued["secret_key"])
        assert response.status_code == 422, (field, response.content)
        assert response.json()["details"][0]["field"] == field
    response = client.patch("/api/brokers/me", {"allowed_origins": ["https://ok.example", "https://x\r\n.example"]},
                            content_type=JSON, HTTP_X_API_KEY=issued["secret_key"])
    assert response.status_code == 422
    broker.refresh_from_db()
    assert (broker.name, broker.business_name) == ("Dana", "Dana Credit")


def test_checkout_refuses_a_customer_name_with_control_characters(client, keyed_broker):
    broker, issued = keyed_broker()
    response = client.post("/api/orders/checkout", {"customer_email": "c@example.com", "customer_name": "Ann\nBee",
                                                    "items": [{"card_id": "c1", "quantity": 1}]},
                           content_type=JSON, HTTP_X_API_KEY=issued["publishable_key"])
    assert response.status_code == 422, response.content
    assert response.json()["details"][0]["field"] == "customer_name"


def test_admin_notes_keep_their_line_breaks(client, admin_headers, make_broker):
    broker = make_broker()
    response = client.patch(f"/api/admin/brokers/{broker.pk}", {"notes": "first line\nsecond line\ttabbed"},
                            content_type=JSON, **admin_headers())
    assert response.status_code == 200, response.content
    broker.refresh_from_db()
    assert broker.notes == "first line\nsecond line\ttabbed"
    response = client.patch(f"/api/admin/brokers/{broker.pk}", {"notes": "bell\x07"}, content_type=JSON,
                            **admin_headers())
    assert response.status_code == 422


def test_the_service_behind_the_admin_forms_refuses_control_characters_too():
    from tradeline.brokers.services import broker_create
    from tradeline.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        broker_create(name="Acme\r\nLtd", email="acme@example.com")
    assert caught.value.details[0]["field"] == "name"
    assert not Broker.objects.exists()
    broker = broker_create(name="  Acme Ltd \n", email="acme@example.com")  # surrounding whitespace is trimmed
    assert broker.name == "Acme Ltd"
