"""Background tasks of fulfillment (django-tasks, database backend, queue "fulfillment")."""

from django_tasks import task

from tradeline.fulfillment.services import fulfillment_attempt
from tradeline.fulfillment.tracking import supplier_orders_sync


@task(queue_name="fulfillment")
def fulfil_order(order_id: str) -> str:
    """Place one paid order at the supplier (thin: the service does the work; a retry enqueues this
    task again, which is why it passes itself)."""
    return fulfillment_attempt(order_id=order_id, requeue=fulfil_order).value


@task(queue_name="fulfillment")
def sync_supplier_orders() -> dict:
    """The periodic posting-status poll (thin: tracking.supplier_orders_sync)."""
    return supplier_orders_sync()
