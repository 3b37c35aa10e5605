"""The API's conventions, checked for every operation in the OpenAPI schema (present and future):
one JSON error format, 401 without credentials, 400/422 for malformed JSON, 413 for big bodies,
405/404 as JSON, a valid schema and rendered docs. Nothing here ever yields a 500."""

import json
import re

import pytest
from django.test import override_settings

from config.api import api
from tradeline.brokers.auth import issue_admin_token
from tradeline.brokers.models import AdminProfile, AdminRole
from tradeline.brokers.services import broker_keys_rotate

SCHEMA = api.get_openapi_schema(path_prefix="/api/")
PLACEHOLDER_ID = "00000000-0000-4000-8000-000000000000"


def _operations():
    for path, methods in SCHEMA["paths"].items():
        for method, op in methods.items():
            security = {name for entry in op.get("security", []) for name in entry}
            yield pytest.param(method.upper(), re.sub(r"\{[^}]+\}", PLACEHOLDER_ID, path), security,
                               "requestBody" in op, id=f"{method.upper()} {path}")


OPERATIONS = list(_operations())
SECURED = [p for p in OPERATIONS if p.values[2]]
WITH_BODY = [p for p in OPERATIONS if p.values[3]]
WRITES = [p for p in OPERATIONS if p.values[0] in ("POST", "PATCH", "PUT")]


def _assert_error(response, status=None):
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if status is not None:
        assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "code", "details"}
    assert isinstance(body["error"], str) and body["error"]
    assert re.fullmatch(r"[A-Z][A-Z0-9_]*", body["code"])
    return body


@pytest.fixture
def credentials(make_broker, django_user_model):
    """headers(security) -> the credential an operation asks for (a SUPER_ADMIN token or a secret key)."""
    admin = django_user_model.objects.create(username="conventions@example.com", email="conventions@example.com",
                                             is_staff=True)  # no password: hashing is slow and not tested here
    AdminProfile.objects.create(user=admin, role=AdminRole.SUPER_ADMIN)
    token, _ = issue_admin_token(admin, 600)
    broker = make_broker()
    keys = broker_keys_rotate(broker_id=broker.pk)

    def headers(security: set[str]) -> dict:
        if "AdminTokenAuth" in security:
            return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        if "BrokerKeyAuth" in security:
            return {"HTTP_X_API_KEY": keys["secret_key"]}
        return {}

    return headers


def _call(client, method, path, body=None, content_type="application/json", **headers):
    return client.generic(method, path, body if body is not None else b"", content_type=content_type, **headers)


def test_openapi_schema_is_valid_and_documents_auth(client):
    from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert [str(error) for error in OPENAPI_31_VALIDATOR.iter_errors(schema)] == []
    schemes = schema["components"]["securitySchemes"]
    assert schemes["BrokerKeyAuth"]["name"] == "x-api-key"
    assert schemes["AdminTokenAuth"]["scheme"] == "bearer"
    assert schema["paths"]["/api/admin/brokers"]["post"]["security"] == [{"AdminTokenAuth": []}]


def test_docs_page_renders(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"openapi.json" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("method, path, security, has_body", SECURED)
def test_secured_operation_without_or_with_garbage_credentials_is_401(client, method, path, security, has_body):
    body = b"{}" if has_body else None
    _assert_error(_call(client, method, path, body), 401)
    garbage = {"HTTP_AUTHORIZATION": "Bearer tlm_at_nope_nope", "HTTP_X_API_KEY": "tlm_sk_nope_nope"}
    _assert_error(_call(client, method, path, body, **garbage), 401)


MALFORMED = [b'{"a": ', b"\xff\xfe not utf-8", b"{'single': 'quotes'}", b"NaN-ish"]
WRONG_SHAPES = [b"[]", b"null", b"42", b'"text"', b'{"\\u0000": [[[[[]]]]]}']


@pytest.mark.django_db
@pytest.mark.parametrize("method, path, security, has_body", WITH_BODY)
def test_malformed_or_misshapen_bodies_are_4xx_json(client, credentials, method, path, security, has_body):
    headers = credentials(security)
    for body in MALFORMED:
        response = _call(client, method, path, body, **headers)
        assert response.status_code in (400, 422), (body, response.status_code)
        _assert_error(response)
    for body in WRONG_SHAPES:  # an optional body may accept null; anything else is a 4xx, never a 500
        response = _call(client, method, path, body, **headers)
        assert response.status_code < 500, (body, response.status_code, response.content[:300])
        if response.status_code >= 400:
            _assert_error(response)
    form = _call(client, method, path, b"a=1&b=2", content_type="application/x-www-form-urlencoded", **headers)
    _assert_error(form)


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2048)
@pytest.mark.parametrize("method, path, security, has_body", WRITES)
def test_request_body_over_the_limit_is_413(client, credentials, method, path, security, has_body):
    big = json.dumps({"padding": "x" * 4096}).encode()
    response = _call(client, method, path, big, **credentials(security))
    if has_body:
        assert _assert_error(response, 413)["code"] == "PAYLOAD_TOO_LARGE"
    else:  # the body is never read: whatever the answer, it is not a crash
        assert response.status_code < 500


def test_unknown_path_and_wrong_method_are_json(client):
    _assert_error(client.get("/api/definitely/not/here"), 404)
    _assert_error(client.delete("/api/admin/auth/login"), 405)
    _assert_error(client.get("/api/admin/auth/login"), 405)
