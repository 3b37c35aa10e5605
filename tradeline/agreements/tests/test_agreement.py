"""The agreement's versions: the shipped default, the public endpoint and page, publication in the
admin (a new immutable version), and the evidence on the admin order page."""

import hashlib

import pytest
from django.test import Client

from tradeline.agreements.models import AgreementAcceptance, AgreementVersion
from tradeline.agreements.services import AgreementConsent, acceptance_record, agreement_publish
from tradeline.audit.models import ActivityLog
from tradeline.brokers.models import AdminRole, KeyKind
from tradeline.core.errors import ValidationFailed
from tradeline.orders.tests.conftest import broker_key
from tradeline.testing.factories import make_admin

pytestmark = pytest.mark.django_db


def test_migration_ships_version_one_with_its_hash():
    row = AgreementVersion.objects.get()
    assert (row.version, row.title) == (1, "Tradeline User Agreement")
    assert row.text_sha256 == hashlib.sha256(row.body.encode("utf-8")).hexdigest()
    assert "authorized user" in row.body and "reporting period" in row.body


def test_public_endpoint_returns_the_current_version(client, make_broker, settings):
    settings.PUBLIC_BASE_URL = "https://market.example.com"
    agreement_publish(title="Tradeline User Agreement", body="Second text.")
    response = client.get("/api/public/agreement", HTTP_X_API_KEY=broker_key(make_broker(), KeyKind.PUBLISHABLE))
    assert response.status_code == 200
    out = response.json()
    assert (out["version"], out["body"], out["url"]) == (2, "Second text.", "https://market.example.com/agreement/v2")
    assert out["text_sha256"] == hashlib.sha256(b"Second text.").hexdigest()


def test_public_endpoint_needs_a_broker_key(client):
    assert client.get("/api/public/agreement").status_code == 401
    assert client.get("/api/public/agreement", HTTP_X_API_KEY="tlm_pk_nope_nope").status_code == 401


def test_public_page_serves_each_version_at_a_stable_url(client):
    agreement_publish(title="Tradeline User Agreement", body="Second <b>text</b>.")
    current = client.get("/agreement")
    assert current.status_code == 200 and "Second &lt;b&gt;text&lt;/b&gt;." in current.content.decode()
    first = client.get("/agreement/v1").content.decode()
    assert "authorized user" in first and "A newer version exists" in first
    assert client.get("/agreement/v9").status_code == 404


def test_publish_never_changes_an_old_version():
    first = AgreementVersion.objects.get(version=1)
    before = (first.body, first.text_sha256)
    second = agreement_publish(title="  Tradeline   User Agreement ", body="New words.\r\nLine two.\n")
    assert (second.version, second.title, second.body) == (2, "Tradeline User Agreement", "New words.\nLine two.")
    first.refresh_from_db()
    assert (first.body, first.text_sha256) == before
    assert ActivityLog.objects.filter(action="agreement.published").count() == 1


@pytest.mark.parametrize("title, body, code", [("", "text", "AGREEMENT_TITLE_INVALID"),
                                               ("Title", "   ", "AGREEMENT_BODY_INVALID")])
def test_publish_refuses_empty_fields(title, body, code):
    with pytest.raises(ValidationFailed) as caught:
        agreement_publish(title=title, body=body)
    assert caught.value.code == code
    assert AgreementVersion.objects.count() == 1


def test_admin_publishes_a_version_and_cannot_edit_one():
    client = Client()
    admin = make_admin(role=AdminRole.ADMIN)
    client.force_login(admin)
    form = client.get("/admin/agreements/agreementversion/add/")
    assert form.status_code == 200 and "authorized user" in form.content.decode()  # starts from the current text
    response = client.post("/admin/agreements/agreementversion/add/",
                           {"title": "Tradeline User Agreement", "body": "Version two."})
    assert response.status_code == 302, response.content[:500]
    row = AgreementVersion.objects.get(version=2)
    assert (row.body, row.published_by) == ("Version two.", admin)
    edit = client.post(f"/admin/agreements/agreementversion/{row.pk}/change/", {"title": "x", "body": "changed"})
    assert edit.status_code == 403
    row.refresh_from_db()
    assert row.body == "Version two."


def test_support_role_cannot_publish():
    client = Client()
    client.force_login(make_admin(role=AdminRole.SUPPORT))
    response = client.post("/admin/agreements/agreementversion/add/", {"title": "T", "body": "B"})
    assert response.status_code == 403
    assert AgreementVersion.objects.count() == 1


def test_admin_order_page_shows_the_evidence(make_order):
    order = make_order(prices=(100_000,))
    acceptance_record(order=order, agreement=AgreementVersion.objects.get(),
                      consent=AgreementConsent(version=1, accepted=True, client_ip="203.0.113.9",
                                               user_agent="Mozilla/5.0 (Evidence)"))
    client = Client()
    client.force_login(make_admin(role=AdminRole.SUPPORT))
    page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert 'id="agreement-evidence"' in page and "203.0.113.9" in page and "Mozilla/5.0 (Evidence)" in page
    assert AgreementAcceptance.objects.get().text_sha256 in page
