"""The broker's webhook endpoints over the API (`/api/brokers/me/webhooks`, secret key): the same
services as the portal's Webhooks page. Thin: schema in, one service or selector call, schema out."""

from django.http import HttpRequest
from ninja import Router, Status

from tradeline.brokers.auth import BrokerKeyAuth
from tradeline.brokers.schemas import ErrorOut
from tradeline.hooks import selectors, services
from tradeline.hooks.models import WebhookDelivery, WebhookEndpoint
from tradeline.hooks.schemas import DeliveryOut, EndpointIn, EndpointOut, EndpointSecretOut, EndpointUpdateIn, RotateSecretIn

router = Router()
ERRORS = {code: ErrorOut for code in (400, 401, 403, 404, 409, 413, 422, 429)}
AUTH = [BrokerKeyAuth()]  # the secret key of an active broker, like /api/brokers/me


def _with_secret(endpoint: WebhookEndpoint, secret: str) -> dict:
    return {**EndpointOut.from_orm(endpoint).dict(), "secret": secret}


def _delivery(delivery: WebhookDelivery) -> dict:
    return {"id": delivery.pk, "event_id": delivery.event.public_id, "event_type": delivery.event.type,
            "endpoint_id": delivery.endpoint_id, "status": delivery.status, "attempts": delivery.attempts,
            "response_status": delivery.response_status, "response_body": delivery.response_body,
            "duration_ms": delivery.duration_ms, "error": delivery.error, "created_at": delivery.created_at,
            "last_attempt_at": delivery.last_attempt_at, "next_attempt_at": delivery.next_attempt_at}


@router.get("/me/webhooks", response={200: list[EndpointOut], **ERRORS}, auth=AUTH,
            summary="The broker's webhook endpoints (secrets are never listed)")
def endpoints(request: HttpRequest):
    return list(selectors.endpoints_for(broker=request.broker))


@router.post("/me/webhooks", response={201: EndpointSecretOut, **ERRORS}, auth=AUTH,
             summary="Add an endpoint (at most 5); its signing secret is in this response only")
def endpoint_create(request: HttpRequest, payload: EndpointIn):
    endpoint, secret = services.webhook_endpoint_create(broker=request.broker, **payload.dict())
    return Status(201, _with_secret(endpoint, secret))


@router.patch("/me/webhooks/{uuid:endpoint_id}", response={200: EndpointOut, **ERRORS}, auth=AUTH,
              summary="Change the URL, events or description; enable or disable")
def endpoint_update(request: HttpRequest, endpoint_id, payload: EndpointUpdateIn):
    return services.webhook_endpoint_update(broker=request.broker, endpoint_id=endpoint_id,
                                            **payload.dict(exclude_unset=True))


@router.delete("/me/webhooks/{uuid:endpoint_id}", response={204: None, **ERRORS}, auth=AUTH,
               summary="Delete an endpoint and its deliveries")
def endpoint_delete(request: HttpRequest, endpoint_id):
    services.webhook_endpoint_delete(broker=request.broker, endpoint_id=endpoint_id)
    return Status(204, None)


@router.post("/me/webhooks/{uuid:endpoint_id}/rotate-secret", response={200: EndpointSecretOut, **ERRORS},
             auth=AUTH, summary="A new signing secret (in this response only); the old one signs too during the overlap")
def endpoint_rotate(request: HttpRequest, endpoint_id, payload: RotateSecretIn | None = None):
    endpoint, secret = services.webhook_secret_rotate(
        broker=request.broker, endpoint_id=endpoint_id, overlap_seconds=payload.overlap_seconds if payload else None)
    return _with_secret(endpoint, secret)


@router.post("/me/webhooks/{uuid:endpoint_id}/test", response={202: DeliveryOut, **ERRORS}, auth=AUTH,
             summary="Queue a webhook.test event to this endpoint")
def endpoint_test(request: HttpRequest, endpoint_id):
    return Status(202, _delivery(services.webhook_send_test(broker=request.broker, endpoint_id=endpoint_id)))


@router.get("/me/webhooks/{uuid:endpoint_id}/deliveries", response={200: list[DeliveryOut], **ERRORS}, auth=AUTH,
            summary="The endpoint's latest 50 deliveries")
def endpoint_deliveries(request: HttpRequest, endpoint_id):
    endpoint = selectors.endpoint_get(broker=request.broker, endpoint_id=endpoint_id)
    return [_delivery(d) for d in selectors.deliveries_for(broker=request.broker, endpoint_id=endpoint.pk)]


@router.post("/me/webhook-deliveries/{uuid:delivery_id}/resend", response={202: DeliveryOut, **ERRORS}, auth=AUTH,
             summary="Send the same event (same id) to the same endpoint again")
def delivery_resend(request: HttpRequest, delivery_id):
    return Status(202, _delivery(services.webhook_delivery_resend(broker=request.broker, delivery_id=delivery_id)))
