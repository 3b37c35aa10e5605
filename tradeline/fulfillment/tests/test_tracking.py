"""Posting status from the supplier simulator: stages recorded once, one customer email per stage,
supplier-side cancellation alerts the admins and refunds nothing."""

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from tradeline.devtools.supplier_sim import Faults, lifecycle
from tradeline.evidence.models import CustomerEmail
from tradeline.fulfillment.models import SupplierOrder, SupplierStatusEvent
from tradeline.fulfillment.posting import expected_dates, parse_deadline, parse_reporting_days
from tradeline.fulfillment.tracking import supplier_orders_sync, supplier_status_record
from tradeline.orders.status_link import status_url
from tradeline.payments.models import Refund
from tradeline.payments.services import order_payment_record
from tradeline.testing.factories import make_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed(supplier_sim, make_order, settings):
    """A paid order placed at the supplier simulator (supplier order `processing`)."""
    settings.ADMIN_EMAILS = ["ops@tradeline.example"]
    order = make_order(prices=(100_000,), customer_name="Ada King")
    order_payment_record(order_id=order.pk, amount=order.total_charged, currency="usd", method="WIRE",
                         reference="W-9", actor_user=make_admin())
    status, body = supplier_sim.state.create_order({"billing": {"email": order.customer_email},
                                                    "line_items": [{"product_id": next(iter(supplier_sim.state.tradelines)),
                                                                    "quantity": 1}], "set_paid": True})
    assert status == 201
    SupplierOrder.objects.filter(order=order).update(supplier_order_id=str(body["id"]), supplier_status="processing",
                                                     placed_at=timezone.now(), status="SUCCEEDED")
    mail.outbox.clear()
    return order, body["id"]


def _move(supplier_sim, supplier_id, status, note=None):
    lifecycle.set_status(supplier_sim.state, supplier_id, status, note)


def test_stages_are_recorded_once_with_one_email_each(placed, supplier_sim):
    order, supplier_id = placed
    _move(supplier_sim, supplier_id, "au-added")
    first = supplier_orders_sync()
    assert (first["open"], first["changes"], first["emails"]) == (1, 1, 1)
    assert supplier_orders_sync()["changes"] == 0  # seen again: nothing recorded, nobody emailed
    _move(supplier_sim, supplier_id, "posted", note="Reported on Dec 18.")
    assert supplier_orders_sync()["changes"] == 1
    events = list(SupplierStatusEvent.objects.values_list("supplier_status", "stage", "note"))
    assert events == [("au-added", "AUTHORIZED_USER", lifecycle.NOTES["au-added"]),
                      ("posted", "REPORTING", "Reported on Dec 18.")]
    assert [m.subject for m in mail.outbox] == [
        f"You were added as an authorized user (order {order.order_number})",
        f"Your tradeline has posted (order {order.order_number})"]
    assert status_url(order.pk) in mail.outbox[1].body and "Reported on Dec 18." in mail.outbox[1].body
    assert SupplierOrder.objects.get(order=order).supplier_status == "posted"


def test_duplicate_status_event_is_a_no_op(placed):
    order, _ = placed
    supplier = SupplierOrder.objects.get(order=order)
    now = timezone.now()
    assert supplier_status_record(supplier_order_pk=supplier.pk, supplier_status="posted", occurred_at=now)
    assert supplier_status_record(supplier_order_pk=supplier.pk, supplier_status="POSTED", occurred_at=now) is None
    assert SupplierStatusEvent.objects.count() == 1


def test_supplier_cancellation_alerts_admins_and_refunds_nothing(placed, supplier_sim):
    order, supplier_id = placed
    _move(supplier_sim, supplier_id, "cancelled")
    counts = supplier_orders_sync()
    assert (counts["changes"], counts["alerts"], counts["emails"]) == (1, 1, 1)
    order.refresh_from_db()
    assert "cancelled" in order.review_reason and "nothing was refunded" in order.review_reason
    assert order.amount_refunded == 0 and Refund.objects.count() == 0
    admin_mail = [m for m in mail.outbox if m.to == ["ops@tradeline.example"]]
    assert len(admin_mail) == 1 and order.order_number in admin_mail[0].subject
    assert "cancelled" in admin_mail[0].body and f"/admin/orders/order/{order.pk}/change/" in admin_mail[0].body
    assert CustomerEmail.objects.get(order=order).kind == "cancelled"
    # Final at the supplier: no longer polled.
    assert supplier_orders_sync()["open"] == 0


def test_clock_moves_orders_through_the_stages(placed, supplier_sim):
    order, supplier_id = placed
    assert lifecycle.tick(supplier_sim.state, stage_seconds=0) == 1
    assert supplier_sim.state.get_order(str(supplier_id))["status"] == "au-added"
    lifecycle.tick(supplier_sim.state, stage_seconds=0)
    lifecycle.tick(supplier_sim.state, stage_seconds=0)
    assert supplier_sim.state.get_order(str(supplier_id))["status"] == "completed"
    assert lifecycle.tick(supplier_sim.state, stage_seconds=0) == 0
    assert lifecycle.tick(supplier_sim.state, stage_seconds=3600) == 0


def test_command_prints_progress(placed, supplier_sim, capsys):
    _, supplier_id = placed
    _move(supplier_sim, supplier_id, "au-added")
    call_command("sync_supplier_orders", "--batch-size", "10")
    out = capsys.readouterr().out
    assert "1 open supplier order(s)" in out and "1/1 polled, 1 change(s)" in out


def test_supplier_outage_counts_an_error_and_changes_nothing(placed, supplier_sim):
    _, supplier_id = placed
    _move(supplier_sim, supplier_id, "au-added")
    supplier_sim.state.set_faults(Faults(status=503, count=10))
    assert supplier_orders_sync()["errors"] == 1
    assert SupplierStatusEvent.objects.count() == 0 and mail.outbox == []


@pytest.mark.parametrize("deadline, period, expected", [
    ("2026-12-15", "18th - 21st of the month", ("2026-12-15", "2026-12-18", "2026-12-21")),
    ("Dec 20, 2026", "Dec 12 - Dec 15", ("2026-12-20", "2027-01-12", "2027-01-15")),
    ("2027-01-31", "30th - 31st of the month", ("2027-01-31", "2027-02-28", "2027-02-28")),
])
def test_expected_dates(deadline, period, expected):
    dates = expected_dates(purchase_deadline=deadline, reporting_period=period, ordered_at=None)
    assert tuple(d.isoformat() for d in (dates.authorized_user_by, dates.reports_from, dates.reports_to)) == expected


def test_unreadable_supplier_texts():
    assert parse_deadline("soon") is None and parse_reporting_days("") is None
