"""Analytics endpoints called from browsers (the widget)."""

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Status

from tradeline.analytics.services import widget_load_record
from tradeline.brokers import keys
from tradeline.brokers.auth import BrokerKeyAuth
from tradeline.core.ratelimit import enforce

router = Router()

WIDGET_LOAD_SCOPE = "widget-load"


def _rate_limit(request: HttpRequest) -> None:
    prefix = keys.split_prefix(request.headers.get("x-api-key", "").strip())
    enforce(request, scope=WIDGET_LOAD_SCOPE, rule=settings.RATE_LIMIT_CATALOG, identity=prefix)


@router.post(
    "/widget-load",
    auth=[BrokerKeyAuth(publishable_ok=True)],
    response={204: None},
    summary="Count one widget load",
    description="Called by widget.js when it renders (publishable key). Adds one widget load to the broker's "
    "figures for the current UTC day.",
)
def widget_load(request: HttpRequest):
    _rate_limit(request)
    widget_load_record(broker_id=request.broker.pk)
    return Status(204, None)
