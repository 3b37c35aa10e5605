"""Fulfillment endpoints, mounted on /api/orders beside orders.api and payments.api.

- POST /{id}/retry-fulfillment — place a paid order at the supplier again (admin, write). It keeps
  the "payments" tag and the operation id it had when it lived in payments.api.
"""

import uuid

from django.http import HttpRequest
from ninja import Router, Status

from tradeline.brokers.auth import AdminTokenAuth
from tradeline.fulfillment.dispatch import fulfillment_retry
from tradeline.orders.schemas import OrderOut
from tradeline.orders.selectors import order_detail

router = Router()


@router.post("/{uuid:order_id}/retry-fulfillment", response={202: OrderOut}, auth=[AdminTokenAuth(write=True)],
             tags=["payments"], operation_id="tradeline_payments_api_retry_fulfillment",
             summary="Try placing a paid order at the supplier again (admin)")
def retry_fulfillment(request: HttpRequest, order_id: uuid.UUID):
    order = fulfillment_retry(order_id=order_id, admin=request.admin_user)
    return Status(202, {"order": order_detail(order=order)})
