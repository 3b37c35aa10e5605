from datetime import UTC, datetime

import pytest
from django.contrib.messages import get_messages

from tradeline.audit.models import ActivityLog
from tradeline.brokers.models import AdminRole, BrokerApiKey, BrokerStatus
from tradeline.brokers.keys import hash_key
from tradeline.fulfillment.models import SupplierOrder
from tradeline.orders.models import Order, OrderStatus
from tradeline.payments.models import Refund
from tradeline.payouts.models import CommissionRecord, CommissionStatus, Payout, PayoutStatus
from tradeline.testing.factories import make_admin, payment_of, supplier_of


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def admin_client(client, db):
    client.force_login(make_admin(role=AdminRole.ADMIN))
    return client


@pytest.fixture
def support_client(client, db):
    client.force_login(make_admin(role=AdminRole.SUPPORT))
    return client


def _action(order, name):
    return f"/admin/orders/order/{order.pk}/action/{name}/"


def _paid_by_check_in_october(admin_client, make_broker, make_order, reference: str) -> Order:
    """A $1,000.00 broker order (share 10 %, markup 20 %: $300.00 commission) paid by check from the
    order page; its commission is then dated October 2026, a month that has ended and can be paid out."""
    order = make_order(broker=make_broker(share="10", markup_percent="20"), prices=(100_000,))
    admin_client.post(_action(order, "manual-payment"), {"method": "CHECK", "reference": reference})
    CommissionRecord.objects.filter(order=order).update(order_paid_at=datetime(2026, 10, 15, tzinfo=UTC))
    return order


@pytest.mark.django_db
def test_manual_payment_then_partial_refund_from_the_order_page(admin_client, make_broker, make_order):
    broker = make_broker(share="10", markup_percent="20")
    order = make_order(broker=broker, prices=(100_000,))  # customer pays $1,200.00

    paid = admin_client.post(_action(order, "manual-payment"), {"method": "WIRE", "reference": "WIRE-778"})
    assert paid.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.amount_paid, payment_of(order).method, payment_of(order).reference) == (
        OrderStatus.PROCESSING, 120_000, "WIRE", "WIRE-778")

    refunded = admin_client.post(_action(order, "refund"), {"amount": "300.00", "reason": "one slot unused"})
    assert refunded.status_code == 302
    assert _messages(refunded)[-1] == "Refunded $300.00; $300.00 of $1,200.00 refunded in total."
    order.refresh_from_db()
    assert (order.amount_refunded, order.status) == (30_000, OrderStatus.PROCESSING)
    commission = CommissionRecord.objects.get(order=order)
    assert commission.total_commission == 22_500  # $300 commission reduced by a quarter

    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<td class="num" id="amount-refunded">$300.00</td>' in html
    assert '<td class="num" id="total-charged">$1,200.00</td>' in html
    assert "refund.succeeded" in html and "WIRE-778" in html


@pytest.mark.django_db
def test_refund_with_a_bad_amount_is_refused_and_changes_nothing(admin_client, make_order):
    order = make_order(prices=(10_000,))
    admin_client.post(_action(order, "manual-payment"), {"method": "CASH", "reference": "R-1"})

    for amount, status in (("abc", 400), ("-5", 400), ("0.001", 400), ("500.00", 302)):
        response = admin_client.post(_action(order, "refund"), {"amount": amount})
        assert response.status_code == status, amount
    assert _messages(response)[-1] == "The refund amount must be between $0.01 and $100.00 (what is left to refund)."
    order.refresh_from_db()
    assert order.amount_refunded == 0
    assert Refund.objects.filter(order=order, status=Refund.Status.SUCCEEDED).count() == 0


@pytest.mark.django_db
def test_support_role_sees_orders_but_cannot_act(support_client, make_order):
    order = make_order(prices=(10_000,))

    page = support_client.get(f"/admin/orders/order/{order.pk}/change/")
    assert page.status_code == 200
    assert "read-only" in page.content.decode()

    response = support_client.post(_action(order, "manual-payment"), {"method": "CASH", "reference": "R-9"})
    assert response.status_code == 302
    assert _messages(response) == ["Your role may only read; ask an administrator to do this."]
    order.refresh_from_db()
    assert (order.status, order.amount_paid) == (OrderStatus.PENDING, 0)


@pytest.mark.django_db
def test_cancel_pending_order_and_not_twice(admin_client, make_order):
    order = make_order()
    first = admin_client.post(_action(order, "cancel"), {"reason": "customer changed their mind"})
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert _messages(first) == [f"Order {order.order_number} cancelled."]

    again = admin_client.post(_action(order, "cancel"), {"reason": ""})
    assert again.status_code == 302
    assert "PENDING" in _messages(again)[-1]


@pytest.mark.django_db
def test_order_actions_need_post_and_a_known_action(admin_client, make_order):
    order = make_order()
    assert admin_client.get(_action(order, "cancel")).status_code == 405
    assert admin_client.post(_action(order, "explode")).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


@pytest.mark.django_db
def test_order_list_searches_number_email_and_broker(admin_client, make_broker, make_order):
    broker = make_broker(name="Acme Credit")
    mine = make_order(broker=broker, customer_email="zed@example.org")
    other = make_order()
    for term in (mine.order_number, "zed@example.org", "Acme"):
        html = admin_client.get("/admin/orders/order/", {"q": term}).content.decode()
        assert mine.order_number in html and other.order_number not in html, term


@pytest.mark.django_db
def test_order_search_is_by_number_prefix_exact_email_and_broker(admin_client, make_broker, make_order):
    broker = make_broker(name="Zenith Credit", email="desk@zenith.example")
    mine = make_order(broker=broker, customer_email="Ann.Lee@example.org")
    other = make_order(customer_email="bob@example.org")

    def found(term: str) -> set[str]:
        html = admin_client.get("/admin/orders/order/", {"q": term}).content.decode()
        return {o.order_number for o in (mine, other) if o.order_number in html}

    assert found(mine.order_number.lower()) == {mine.order_number}
    assert found(mine.order_number[:8]) == {mine.order_number, other.order_number}  # TLM-YYMM: a month
    assert found(mine.order_number[4:]) == set()  # a number is searched by its start, not its middle
    # An email is matched whole, as typed or lower-cased (the index on the stored value).
    assert (found("Ann.Lee@example.org"), found("ann.lee@example.org"), found("Ann.Lee")) == (
        {mine.order_number}, set(), set())
    mine.customer_email = "ann.lee@example.org"
    mine.save(update_fields=["customer_email"])
    assert found("Ann.Lee@example.org") == found("ann.lee@example.org") == {mine.order_number}
    assert found("zenith.example") == found("zenith") == {mine.order_number}


@pytest.mark.django_db
def test_broker_approve_share_and_key_rotation(admin_client, make_broker):
    broker = make_broker(status=BrokerStatus.PENDING)
    url = f"/admin/brokers/broker/{broker.pk}/action/"

    admin_client.post(url + "approve/")
    broker.refresh_from_db()
    assert broker.status == BrokerStatus.ACTIVE

    bad = admin_client.post(url + "share/", {"percent": "40"})
    broker.refresh_from_db()
    assert str(broker.revenue_share_percent) == "10.00"
    assert bad.status_code == 302 and "25" in _messages(bad)[-1]
    admin_client.post(url + "share/", {"percent": "12.5"})
    broker.refresh_from_db()
    assert str(broker.revenue_share_percent) == "12.50"

    rotated = admin_client.post(url + "rotate-keys/", {"kind": ""})
    html = rotated.content.decode()
    assert rotated.status_code == 200
    live = {k.kind: k for k in BrokerApiKey.objects.filter(broker=broker, revoked_at__isnull=True)}
    shown = [part.split("<")[0] for part in html.split('<div class="tl-key">')[1:]]
    assert len(shown) == 2
    assert {hash_key(value) for value in shown} == {live["PUBLISHABLE"].key_hash, live["SECRET"].key_hash}
    # Shown once: the page never shows them again.
    assert shown[0] not in admin_client.get(f"/admin/brokers/broker/{broker.pk}/change/").content.decode()


@pytest.mark.django_db
def test_payout_run_previews_then_creates_then_marks_paid(admin_client, make_broker, make_order):
    order = _paid_by_check_in_october(admin_client, make_broker, make_order, "CHK-1")

    preview = admin_client.post("/admin/payouts/payout/run/", {"year": 2026, "month": 10, "step": "preview"})
    assert preview.status_code == 200
    assert "$300.00" in preview.content.decode() and "Create 1 payout" in preview.content.decode()
    assert "<td>a payout would be created</td>" in preview.content.decode()  # a dry run creates nothing
    assert "payout created" not in preview.content.decode()
    assert Payout.objects.count() == 0  # a dry run writes nothing

    confirm = admin_client.post("/admin/payouts/payout/run/", {"year": 2026, "month": 10, "step": "confirm"})
    assert confirm.status_code == 302
    payout = Payout.objects.get()
    assert (payout.status, payout.total_amount, payout.commission_count) == (PayoutStatus.PENDING, 30_000, 1)

    missing = admin_client.post(f"/admin/payouts/payout/{payout.pk}/action/mark-paid/", {"transaction_id": ""})
    assert missing.status_code == 400
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PENDING

    admin_client.post(f"/admin/payouts/payout/{payout.pk}/action/mark-paid/", {"transaction_id": "ACH-55"})
    payout.refresh_from_db()
    assert (payout.status, payout.transaction_id) == (PayoutStatus.COMPLETED, "ACH-55")
    assert CommissionRecord.objects.get(order=order).status == CommissionStatus.PAID

    csv = admin_client.get(f"/admin/payouts/payout/{payout.pk}/report.csv")
    assert csv.status_code == 200
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    assert order.order_number in csv.content.decode()


@pytest.mark.django_db
def test_payout_run_for_an_unfinished_month_shows_the_error(admin_client):
    now = datetime.now(UTC)
    response = admin_client.post("/admin/payouts/payout/run/", {"year": now.year, "month": now.month,
                                                                "step": "preview"})
    assert response.status_code == 400
    assert "has not ended" in response.content.decode()
    assert Payout.objects.count() == 0
    assert not ActivityLog.objects.filter(action__startswith="PAYOUT").exists()


@pytest.mark.django_db
def test_retry_fulfillment_from_the_order_page_queues_it_again(admin_client, make_order):
    from tradeline.orders.models import FulfillmentStatus

    order = make_order(prices=(10_000,))
    admin_client.post(_action(order, "manual-payment"), {"method": "CASH", "reference": "R-7"})
    # Setup: the supplier refused every attempt.
    Order.objects.filter(pk=order.pk).update(fulfillment_status=FulfillmentStatus.FAILED)
    SupplierOrder.objects.filter(order_id=order.pk).update(status=FulfillmentStatus.FAILED, attempts=5,
                                                           last_error="supplier said no")
    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "Fulfillment failed" in page and "Retry fulfillment" in page

    response = admin_client.post(_action(order, "retry-fulfillment"))
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.fulfillment_status, supplier_of(order).attempts) == (FulfillmentStatus.QUEUED, 0)
    assert ActivityLog.objects.filter(action="order.fulfillment_retried", entity_id=str(order.pk)).count() == 1


@pytest.mark.django_db
def test_payment_link_for_a_pending_order(admin_client, make_order, stripe_sim):
    order = make_order(prices=(25_000,))
    response = admin_client.post(_action(order, "payment-link"))
    assert response.status_code == 302
    order.refresh_from_db()
    link = payment_of(order)
    assert link.stripe_payment_link_id.startswith("plink_")
    assert _messages(response) == [f"Payment link created: {link.stripe_payment_link_url}"]
    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert f'id="payment-link">{link.stripe_payment_link_url}<' in page


@pytest.mark.django_db
def test_every_admin_list_and_detail_page_renders_with_money_in_dollars(client, make_broker, make_order):
    from django.contrib import admin as django_admin
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    admin_client = client
    admin_client.force_login(get_user_model().objects.create_superuser("root@example.com", "root@example.com",
                                                                       "root-password-123"))

    broker = make_broker(share="10", markup_percent="20")
    order = make_order(broker=broker, prices=(100_000,))
    admin_client.post(_action(order, "manual-payment"), {"method": "CASH", "reference": "R-5"})
    commission = CommissionRecord.objects.get(order=order)

    for model in django_admin.site._registry:
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert admin_client.get(url).status_code == 200, url
        first = model.objects.first()
        if first is not None:
            detail = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
            assert admin_client.get(detail).status_code == 200, detail

    html = admin_client.get(f"/admin/payouts/commissionrecord/{commission.pk}/change/").content.decode()
    assert "$300.00" in html and ">30000<" not in html


@pytest.mark.django_db
def test_cancel_a_pending_payout_gives_its_commissions_back(admin_client, make_broker, make_order):
    order = _paid_by_check_in_october(admin_client, make_broker, make_order, "CHK-2")
    admin_client.post("/admin/payouts/payout/run/", {"year": 2026, "month": 10, "step": "confirm"})
    payout = Payout.objects.get()

    response = admin_client.post(f"/admin/payouts/payout/{payout.pk}/action/cancel/", {"reason": "wrong account"})
    assert response.status_code == 302
    payout.refresh_from_db()
    assert (payout.status, payout.notes) == (PayoutStatus.CANCELLED, "wrong account")
    assert CommissionRecord.objects.get(order=order).status == CommissionStatus.PAYABLE

    again = admin_client.post(f"/admin/payouts/payout/{payout.pk}/action/mark-paid/", {"transaction_id": "ACH-1"})
    assert again.status_code == 302
    assert "only a PENDING payout" in _messages(again)[-1]
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.CANCELLED


@pytest.mark.django_db
def test_payment_and_supplier_order_lists_show_the_records(admin_client, make_order):
    order = make_order(prices=(10_000,))
    admin_client.post(_action(order, "manual-payment"), {"method": "CHECK", "reference": "CHK-1001"})
    payments = admin_client.get("/admin/payments/payment/").content.decode()
    assert order.order_number in payments and "CHK-1001" in payments and "PAYING" in payments
    supplier_orders = admin_client.get("/admin/fulfillment/supplierorder/").content.decode()
    assert order.order_number in supplier_orders and "QUEUED" in supplier_orders


@pytest.mark.django_db
def test_lists_filter_by_broker_without_listing_every_broker(admin_client, make_broker, make_order):
    mine, other = make_broker(name="Alpha Credit"), make_broker(name="Omega Credit")
    order, theirs = make_order(broker=mine), make_order(broker=other)
    everything = admin_client.get("/admin/orders/order/").content.decode()
    assert "Alpha Credit</a>" not in everything.split('id="changelist-filter"')[-1]  # no broker links
    filtered = admin_client.get("/admin/orders/order/", {"broker__id__exact": str(mine.pk)}).content.decode()
    assert order.order_number in filtered and theirs.order_number not in filtered
    assert "Alpha Credit" in filtered.split('id="changelist-filter"')[-1]  # the chosen broker is shown
    unknown = admin_client.get("/admin/orders/order/", {"broker__id__exact": "not-a-uuid"}).content.decode()
    assert order.order_number not in unknown and theirs.order_number not in unknown
    payouts = admin_client.get("/admin/payouts/payout/", {"broker__id__exact": str(mine.pk)})
    assert payouts.status_code == 200
