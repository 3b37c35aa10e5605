"""Background tasks of fulfillment (django-tasks, database backend, queue "fulfillment")."""

from django_tasks import task


@task(queue_name="fulfillment")
def fulfil_order(order_id: str) -> str:
    """Place one paid order at the supplier (thin: the service does the work and the retries)."""
    from tradeline.fulfillment.services import fulfillment_place

    return fulfillment_place(order_id=order_id).value
