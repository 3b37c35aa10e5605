import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from tradeline.audit.models import ActivityLog
from tradeline.brokers.auth import issue_admin_token
from tradeline.brokers.models import AdminProfile, AdminRole
from tradeline.brokers.services import broker_keys_rotate
from tradeline.payouts.models import CommissionRecord, CommissionStatus, Payout, PayoutStatus
from tradeline.payouts.services import commission_apply_refund, payout_create_monthly, payout_mark_paid
from tradeline.payouts.tests.helpers import paid_order, set_refunded, utc

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client()


def admin_auth(role=AdminRole.ADMIN):
    # No password: these tests authenticate with tokens, and hashing one costs a second per admin.
    n = uuid.uuid4().hex[:12]
    user = get_user_model().objects.create_user(username=f"payout-admin-{n}", email=f"payout-admin-{n}@example.com",
                                                password=None, is_staff=True)
    AdminProfile.objects.create(user=user, role=role)
    raw, _ = issue_admin_token(user, 3600)
    return user, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def broker_auth(broker, kind="secret_key"):
    return {"HTTP_X_API_KEY": broker_keys_rotate(broker_id=broker.pk)[kind]}


def august_payout(broker):
    paid_order(broker=broker, paid_at=utc(2026, 8, 5))
    paid_order(broker=broker, paid_at=utc(2026, 8, 6), prices=(50_000,))
    return payout_create_monthly(broker=broker, year=2026, month=8)


class TestAdmin:
    def test_create_payouts(self, client, make_broker):
        user, auth = admin_auth()
        broker = make_broker(name="Acme")
        paid_order(broker=broker, paid_at=utc(2026, 8, 5))
        resp = client.post("/api/payouts", {"year": 2026, "month": 8}, content_type="application/json", **auth)
        assert resp.status_code == 201, resp.content
        body = resp.json()
        assert body["count"] == 1 and body["period"] == "2026-08"
        payout = body["payouts"][0]
        assert (payout["total_amount"], payout["total_amount_usd"], payout["status"]) == (30_000, "300.00", "PENDING")
        assert body["brokers"][0]["outcome"] == "created"
        assert ActivityLog.objects.get(action="payout.created").actor_user == user
        again = client.post("/api/payouts", {"year": 2026, "month": 8, "broker_id": str(broker.pk)},
                            content_type="application/json", **auth)
        assert again.status_code == 201 and again.json()["count"] == 0
        assert again.json()["brokers"][0]["outcome"] == "exists"
        assert Payout.objects.count() == 1

    def test_month_not_ended_is_409(self, client, make_broker):
        _, auth = admin_auth()
        now = timezone.now()
        resp = client.post("/api/payouts", {"year": now.year, "month": now.month},
                           content_type="application/json", **auth)
        assert resp.status_code == 409 and resp.json()["code"] == "PERIOD_NOT_ENDED"

    @pytest.mark.parametrize("body", [{"year": 2026, "month": 13}, {"year": "x", "month": 1}, {"month": 1},
                                      {"year": 2026, "month": 8, "broker_id": "nope"}])
    def test_bad_input_is_422(self, client, body):
        _, auth = admin_auth()
        resp = client.post("/api/payouts", body, content_type="application/json", **auth)
        assert resp.status_code == 422 and resp.json()["code"] == "VALIDATION_ERROR"

    def test_unknown_broker_is_404(self, client):
        _, auth = admin_auth()
        resp = client.post("/api/payouts", {"year": 2026, "month": 8,
                                            "broker_id": "00000000-0000-0000-0000-000000000000"},
                           content_type="application/json", **auth)
        assert resp.status_code == 404

    def test_support_may_read_but_not_write(self, client, make_broker):
        payout = august_payout(make_broker())
        _, auth = admin_auth(AdminRole.SUPPORT)
        assert client.get("/api/payouts/pending", **auth).status_code == 200
        resp = client.post(f"/api/payouts/{payout.pk}/process", {"transaction_id": "T"},
                           content_type="application/json", **auth)
        assert resp.status_code == 403
        assert client.post("/api/payouts", {"year": 2026, "month": 8}, content_type="application/json",
                           **auth).status_code == 403
        payout.refresh_from_db()
        assert payout.status == PayoutStatus.PENDING

    def test_no_credentials_is_401(self, client):
        assert client.get("/api/payouts/pending").status_code == 401
        assert client.post("/api/payouts", {"year": 2026, "month": 8},
                           content_type="application/json").status_code == 401

    def test_pending_process_cancel(self, client, make_broker):
        user, auth = admin_auth()
        first = august_payout(make_broker())
        second = august_payout(make_broker())
        pending = client.get("/api/payouts/pending", **auth).json()
        assert {p["id"] for p in pending} == {str(first.pk), str(second.pk)}
        resp = client.post(f"/api/payouts/{first.pk}/process", {"transaction_id": "ACH-991", "notes": "ok"},
                           content_type="application/json", **auth)
        assert resp.status_code == 200 and resp.json()["status"] == "COMPLETED"
        assert resp.json()["transaction_id"] == "ACH-991"
        again = client.post(f"/api/payouts/{first.pk}/process", {"transaction_id": "OTHER"},
                            content_type="application/json", **auth)
        assert again.status_code == 409 and again.json()["code"] == "PAYOUT_NOT_PENDING"
        missing = client.post(f"/api/payouts/{first.pk}/process", {"notes": "x"},
                              content_type="application/json", **auth)
        assert missing.status_code == 422
        resp = client.post(f"/api/payouts/{second.pk}/cancel", {"reason": "wrong account"},
                           content_type="application/json", **auth)
        assert resp.status_code == 200 and resp.json()["status"] == "CANCELLED"
        assert set(CommissionRecord.objects.filter(broker=second.broker).values_list("status", flat=True)) == {
            CommissionStatus.PAYABLE}
        assert client.get("/api/payouts/pending", **auth).json() == []
        nobody = client.post("/api/payouts/00000000-0000-0000-0000-000000000000/cancel",
                             content_type="application/json", **auth)
        assert nobody.status_code == 404
        assert client.post("/api/payouts/not-a-uuid/cancel", **auth).status_code == 404

    def test_fail_without_a_body(self, client, make_broker):
        user, auth = admin_auth()
        payout = august_payout(make_broker())
        for bad in ("{not json", '"text"', '{"reason": 5}'):
            resp = client.post(f"/api/payouts/{payout.pk}/fail", bad, content_type="application/json", **auth)
            assert resp.status_code == 422, bad
        payout.refresh_from_db()
        assert payout.status == PayoutStatus.PENDING
        resp = client.post(f"/api/payouts/{payout.pk}/fail", **auth)
        assert resp.status_code == 200 and resp.json()["status"] == "FAILED"
        assert ActivityLog.objects.get(action="payout.failed").actor_user == user
        assert CommissionRecord.objects.filter(payout__isnull=True, status=CommissionStatus.PAYABLE).count() == 2


class TestReports:
    def test_admin_json_and_csv(self, client, make_broker):
        payout = august_payout(make_broker())
        _, auth = admin_auth(AdminRole.SUPPORT)
        report = client.get(f"/api/payouts/{payout.pk}/report", **auth).json()
        assert report["payout_id"] == str(payout.pk) and report["order_count"] == 2
        assert report["totals"] == {"revenue_share": 15_000, "revenue_share_usd": "150.00", "markup": 30_000,
                                    "markup_usd": "300.00", "adjustments": 0, "adjustments_usd": "0.00",
                                    "total": 45_000, "total_usd": "450.00"}
        assert sum(o["commission"] for o in report["orders"]) == report["totals"]["total"]
        resp = client.get(f"/api/payouts/{payout.pk}/report?format=csv", **auth)
        assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
        lines = resp.content.decode().strip().split("\n")
        assert len(lines) == 4 and lines[-1].split(",")[8] == "450.00"
        assert client.get(f"/api/payouts/{payout.pk}/report?format=pdf", **auth).status_code == 422

    def test_broker_sees_only_its_own(self, client, make_broker):
        mine, other = make_broker(), make_broker()
        payout = august_payout(mine)
        theirs = august_payout(other)
        auth = broker_auth(mine)
        assert client.get(f"/api/payouts/{payout.pk}/report", **auth).status_code == 200
        assert client.get(f"/api/payouts/{payout.pk}/report?format=csv", **auth).status_code == 200
        resp = client.get(f"/api/payouts/{theirs.pk}/report", **auth)
        assert resp.status_code == 404 and resp.json()["code"] == "PAYOUT_NOT_FOUND"
        assert client.get(f"/api/payouts/{theirs.pk}", **auth).status_code == 404
        assert client.get(f"/api/payouts/{payout.pk}", **auth).json()["total_amount"] == 45_000

    def test_publishable_key_is_refused(self, client, make_broker):
        broker = make_broker()
        payout = august_payout(broker)
        resp = client.get(f"/api/payouts/{payout.pk}/report", **broker_auth(broker, "publishable_key"))
        assert resp.status_code == 403


class TestBroker:
    def test_history_and_earnings(self, client, make_broker):
        broker = make_broker()
        auth = broker_auth(broker)
        july_order = paid_order(broker=broker, paid_at=utc(2026, 7, 5))
        july = payout_create_monthly(broker=broker, year=2026, month=7)
        payout_mark_paid(payout_id=july.pk, transaction_id="T-7")
        commission_apply_refund(order=set_refunded(july_order, 30_000))
        august_payout(broker)
        body = client.get("/api/payouts/broker?limit=1", **auth).json()
        assert body["pagination"] == {"page": 1, "limit": 1, "total": 2, "pages": 2}
        assert body["payouts"][0]["period"] == "2026-08"
        assert body["summary"]["total_payouts"] == 1 and body["summary"]["total_paid"] == 30_000
        page2 = client.get("/api/payouts/broker?limit=1&page=2", **auth).json()
        assert page2["payouts"][0]["period"] == "2026-07"
        assert client.get("/api/payouts/broker?status=COMPLETED", **auth).json()["pagination"]["total"] == 1
        assert client.get("/api/payouts/broker?status=NOPE", **auth).status_code == 422
        assert client.get("/api/payouts/broker?limit=1000", **auth).status_code == 422
        earnings = client.get("/api/brokers/me/earnings", **auth).json()
        assert earnings == {
            "pending": 0, "pending_usd": "0.00", "held": 0, "held_usd": "0.00",
            "in_payout": 37_500, "in_payout_usd": "375.00", "paid": 30_000, "paid_usd": "300.00",
            "clawed_back": 7_500, "clawed_back_usd": "75.00", "open_adjustments": 0, "open_adjustments_usd": "0.00",
        }

    def test_broker_cannot_use_admin_endpoints(self, client, make_broker):
        broker = make_broker()
        payout = august_payout(broker)
        auth = broker_auth(broker)
        assert client.post(f"/api/payouts/{payout.pk}/process", {"transaction_id": "T"},
                           content_type="application/json", **auth).status_code == 401
        assert client.get("/api/payouts/pending", **auth).status_code == 401
        payout.refresh_from_db()
        assert payout.status == PayoutStatus.PENDING

    def test_earnings_need_a_key(self, client):
        assert client.get("/api/brokers/me/earnings").status_code == 401
