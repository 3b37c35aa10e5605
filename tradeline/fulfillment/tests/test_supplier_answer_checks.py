"""A real WooCommerce store answers 201 for orders it cannot fill (a product that no longer exists is
kept as a product-less line with total 0). Fulfillment must read what came back and treat a mismatch
as a rejection: flagged for an admin at once, no retry loop, nothing marked complete."""

import pytest
from django.core import mail

from tradeline.audit.models import ActivityLog
from tradeline.fulfillment.dispatch import fulfillment_place
from tradeline.fulfillment.services import FulfillmentOutcome
from tradeline.fulfillment.tests.test_fulfillment import _fast_retries, broker, paid_order  # noqa: F401
from tradeline.fulfillment.models import SupplierOrder
from tradeline.orders.models import FulfillmentStatus, Order, OrderStatus, PaymentStatus
from tradeline.testing.factories import supplier_of

pytestmark = pytest.mark.django_db


def test_an_order_the_supplier_keeps_without_its_product_is_not_completed(
        paid_order, supplier_sim, django_capture_on_commit_callbacks):  # noqa: F811
    order = paid_order()
    card_id = order.items.get().card_id
    supplier_sim.state.remove_tradeline(card_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert fulfillment_place(order_id=order.pk) == FulfillmentOutcome.FAILED
    order.refresh_from_db()
    supplier = supplier_of(order)
    assert (order.status, order.fulfillment_status, supplier.attempts) == (
        OrderStatus.PROCESSING, FulfillmentStatus.FAILED, 1)
    assert order.completed_at is None and supplier.supplier_order_id is None
    assert order.payment_status == PaymentStatus.SUCCEEDED
    assert supplier.last_error.startswith("SUPPLIER_REJECTED")
    assert "5001" in supplier.last_error and card_id in supplier.last_error
    [placed] = supplier_sim.orders()  # the store did create it: an admin must look
    assert (placed["line_items"][0]["product_id"], placed["total"]) == (0, "0.00")
    assert ActivityLog.objects.filter(action="order.fulfillment_failed", entity_id=str(order.pk)).count() == 1
    assert ActivityLog.objects.filter(action="order.fulfillment_retry_scheduled").count() == 0
    assert [m.to for m in mail.outbox] == [["ops@tradeline.example"]]
    # A second run (a duplicate task) neither retries nor completes it.
    assert fulfillment_place(order_id=order.pk) == FulfillmentOutcome.SKIPPED
    assert len(supplier_sim.orders()) == 1


def test_a_mismatching_order_found_by_the_search_is_not_completed_either(paid_order, supplier_sim):  # noqa: F811
    order = paid_order()
    supplier_sim.state.remove_tradeline(order.items.get().card_id)
    assert fulfillment_place(order_id=order.pk) == FulfillmentOutcome.FAILED
    # The admin retries: the search finds the order placed before, which is still wrong.
    Order.objects.filter(pk=order.pk).update(fulfillment_status=FulfillmentStatus.QUEUED)
    SupplierOrder.objects.filter(order_id=order.pk).update(status=FulfillmentStatus.QUEUED, attempts=0)
    assert fulfillment_place(order_id=order.pk) == FulfillmentOutcome.FAILED
    order.refresh_from_db()
    assert (order.status, supplier_of(order).supplier_order_id) == (OrderStatus.PROCESSING, None)
    assert len(supplier_sim.orders()) == 1


def test_oversold_stock_is_the_supplier_s_business(paid_order, supplier_sim):  # noqa: F811
    order = paid_order()
    card_id = order.items.get().card_id
    supplier_sim.set_stock(card_id, 0)
    assert fulfillment_place(order_id=order.pk) == FulfillmentOutcome.COMPLETED
    assert supplier_sim.stock(card_id) == -1  # WooCommerce does not check stock on REST orders
