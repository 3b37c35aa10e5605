"""Analytics endpoints called from browsers (the widget): views and funnel events."""

from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status

from tradeline.analytics.services import cart_add_record, widget_load_record
from tradeline.brokers.auth import BrokerKeyAuth, public_key_rate_limit
from tradeline.core.ratelimit import client_ip

router = Router()

WIDGET_LOAD_SCOPE = "widget-load"
WIDGET_EVENT_SCOPE = "widget-event"


class WidgetEventIn(Schema):
    event: Literal["cart_add"]


@router.post(
    "/widget-load",
    auth=[BrokerKeyAuth(publishable_ok=True)],
    response={204: None},
    summary="Count one widget view",
    description="Called by widget.js when it renders (publishable key). Adds one widget view to the broker's "
    "figures for the current UTC day, and one unique visitor the first time a visitor is seen that day "
    "(a salted hash of IP address and user agent, rotated daily; no cookie, nothing stored that identifies "
    "the visitor).",
)
def widget_load(request: HttpRequest):
    public_key_rate_limit(request, scope=WIDGET_LOAD_SCOPE)
    widget_load_record(broker_id=request.broker.pk, client_ip=client_ip(request),
                       user_agent=request.headers.get("user-agent", ""))
    return Status(204, None)


@router.post(
    "/widget-event",
    auth=[BrokerKeyAuth(publishable_ok=True)],
    response={204: None},
    summary="Count one funnel event of the widget",
    description='`{"event": "cart_add"}` adds one cart add to the broker\'s figures for the current UTC day. '
    "Checkout starts and paid orders are counted by the server itself.",
)
def widget_event(request: HttpRequest, payload: WidgetEventIn):
    public_key_rate_limit(request, scope=WIDGET_EVENT_SCOPE)
    cart_add_record(broker_id=request.broker.pk)
    return Status(204, None)
