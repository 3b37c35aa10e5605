"""One payout, four renderings (admin page, portal page, JSON, CSV) that add up the same way, with
adjustments as their own lines; CSV cells a spreadsheet cannot run; download names that a broker's
name cannot break."""

import csv
import io
import re

import pytest
from django.core.cache import cache

from tradeline.brokers.auth import issue_admin_token
from tradeline.brokers.models import AdminRole
from tradeline.brokers.services import broker_set_password
from tradeline.core.text import csv_cell, download_filename
from tradeline.payouts.models import CommissionAdjustment
from tradeline.payouts.services import commission_apply_refund, payout_create_monthly, payout_mark_paid
from tradeline.payouts.tests.helpers import paid_order, set_refunded, utc
from tradeline.testing.factories import make_admin

EVIL_EMAIL = "=2+5+cmd|' /C calc'!A0@example.com"
PASSWORD = "portal-pass-12345"


@pytest.fixture
def august_payout(make_broker):
    """August: two orders ($300.00 + $300.00 commission) and a -$150.00 clawback of a July order
    refunded by half after July was paid out: $450.00."""
    cache.clear()
    broker = make_broker(name="Acme\r\nSet-Cookie: x=1 \"quoted\"", email="dana@broker.test")
    broker_set_password(broker_id=broker.pk, password=PASSWORD)
    july = paid_order(broker=broker, paid_at=utc(2026, 7, 10))
    payout_mark_paid(payout_id=payout_create_monthly(broker=broker, year=2026, month=7).pk, transaction_id="ACH-7")
    commission_apply_refund(order=set_refunded(july, 60_000))
    first = paid_order(broker=broker, paid_at=utc(2026, 8, 3))
    second = paid_order(broker=broker, paid_at=utc(2026, 8, 9))
    type(second).objects.filter(pk=second.pk).update(customer_email=EVIL_EMAIL)
    payout = payout_create_monthly(broker=broker, year=2026, month=8)
    assert (payout.total_amount, payout.total_adjustments) == (45_000, -15_000)
    assert CommissionAdjustment.objects.filter(payout=payout).count() == 1
    assert first.pk != second.pk
    yield payout
    cache.clear()


def _page_total(html: str) -> list[str]:
    row = re.search(r'<tr class="total" id="payout-lines-total">(.*?)</tr>', html, re.S).group(1)
    return re.findall(r'<td class="num">([^<]*)</td>', row)


def _page_lines(html: str) -> int:
    return len(re.findall(r'<tr class="(?:order|adjustment)-line">', html))


@pytest.mark.django_db
def test_admin_page_portal_page_json_and_csv_add_up_the_same_way(client, august_payout):
    payout = august_payout
    key, _ = issue_admin_token(make_admin(role=AdminRole.ADMIN), 600)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    report = client.get(f"/api/payouts/{payout.pk}/report", **auth).json()
    lines = report["orders"] + report["adjustments"]
    share = sum(line["revenue_share"] for line in lines)
    markup = sum(line["markup"] for line in lines)
    commission = sum(line["commission"] for line in report["orders"]) + sum(a["amount"] for a in report["adjustments"])
    assert (share, markup, commission) == (15_000, 30_000, 45_000)
    assert {k: report["line_totals"][k] for k in ("revenue_share", "markup", "commission")} == {
        "revenue_share": share, "markup": markup, "commission": commission}
    assert report["totals"]["total"] == commission

    rows = list(csv.reader(io.StringIO(client.get(f"/api/payouts/{payout.pk}/report?format=csv", **auth)
                                       .content.decode())))
    assert [row[0] for row in rows[1:]] == ["order", "order", "adjustment", "total"]
    assert rows[-1][6:9] == ["150.00", "300.00", "450.00"]

    expected = ["$150.00", "$300.00", "$450.00"]
    client.force_login(make_admin(role=AdminRole.SUPPORT))
    admin_html = client.get(f"/admin/payouts/payout/{payout.pk}/change/").content.decode()
    assert _page_total(admin_html) == expected
    assert _page_lines(admin_html) == 3
    portal = client.post("/portal/login/", {"email": "dana@broker.test", "password": PASSWORD})
    assert portal.status_code == 302
    portal_html = client.get(f"/portal/payouts/{payout.pk}/").content.decode()
    assert _page_total(portal_html) == expected
    assert _page_lines(portal_html) == 3


@pytest.mark.django_db
def test_every_payout_csv_neutralises_formulas(client, august_payout):
    payout = august_payout
    key, _ = issue_admin_token(make_admin(role=AdminRole.ADMIN), 600)
    downloads = [client.get(f"/api/payouts/{payout.pk}/report?format=csv", HTTP_AUTHORIZATION=f"Bearer {key}")]
    client.force_login(make_admin(role=AdminRole.ADMIN))
    downloads.append(client.get(f"/admin/payouts/payout/{payout.pk}/report.csv"))
    client.post("/portal/login/", {"email": "dana@broker.test", "password": PASSWORD})
    downloads.append(client.get(f"/portal/payouts/{payout.pk}/report.csv"))
    for response in downloads:
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        customers = [row[3] for row in rows if row[0] == "order"]
        assert "'" + EVIL_EMAIL in customers
        assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for row in rows for cell in row)
        assert rows[-2][8] == "-150.00"  # a negative amount stays a number


@pytest.mark.django_db
def test_a_broker_name_with_a_newline_gives_a_safe_download_name(client, august_payout):
    payout = august_payout
    client.force_login(make_admin(role=AdminRole.ADMIN))
    response = client.get(f"/admin/payouts/payout/{payout.pk}/report.csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="payout-2026-08-acme-set-cookie-x-1-quoted.csv"')


def test_csv_cell_and_download_filename():
    assert [csv_cell(v) for v in ("=1+1", "+1", "-x", "@SUM(A1)", "\tx", "\rx", "-12.50", "12", "a=b", None)] == [
        "'=1+1", "'+1", "'-x", "'@SUM(A1)", "'\tx", "'\rx", "-12.50", "12", "a=b", ""]
    assert download_filename("payout", "2026-08", "../../etc/passwd\n", ext="csv") == "payout-2026-08-etc-passwd.csv"
    assert download_filename("\n\r\"", ext="c\nsv") == "download.csv"


@pytest.mark.django_db
def test_statement_and_tax_exports_neutralise_formulas_too(make_broker):
    from tradeline.payouts.statements import broker_statement, broker_statement_csv, tax_year_csv

    broker = make_broker(name="@SUM(1+1)*cmd|' /C calc'!A0", email="=cmd@example.com")
    text = broker_statement_csv(broker_statement(broker=broker, year=2026))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][1] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for row in rows for cell in row)
    tax = list(csv.reader(io.StringIO(tax_year_csv(year=2026))))
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for row in tax for cell in row)
