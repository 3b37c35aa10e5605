"""GET/POST /api/orders/{id}/dispute/evidence — the dispute's evidence draft, and sending it to
Stripe (admin; POST needs a writing role)."""

import uuid

from django.http import HttpRequest
from ninja import Router, Schema

from tradeline.brokers.auth import AdminTokenAuth
from tradeline.chargebacks.services import dispute_evidence_draft, dispute_evidence_send
from tradeline.core.errors import NotFound
from tradeline.orders.models import Order
from tradeline.orders.schemas import ErrorOut

router = Router()


class EvidenceSendIn(Schema):
    submit: bool = False


def _order(order_id: uuid.UUID) -> Order:
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise NotFound("Order not found.", code="ORDER_NOT_FOUND")
    return order


@router.get("/{uuid:order_id}/dispute/evidence", response={200: dict, 404: ErrorOut}, auth=[AdminTokenAuth()],
            summary="The evidence draft for the order's open dispute, from our records (admin)")
def evidence_draft(request: HttpRequest, order_id: uuid.UUID):
    return dispute_evidence_draft(order=_order(order_id))


@router.post("/{uuid:order_id}/dispute/evidence", response={200: dict, 404: ErrorOut, 409: ErrorOut, 502: ErrorOut},
             auth=[AdminTokenAuth(write=True)],
             summary="Send the evidence to Stripe: saved (submit=false) or submitted for review (submit=true)")
def evidence_send(request: HttpRequest, order_id: uuid.UUID, payload: EvidenceSendIn):
    return dispute_evidence_send(order=_order(order_id), submit=payload.submit, admin=request.admin_user)
