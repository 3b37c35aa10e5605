"""Portal page "Webhooks": the broker's endpoints, their recent deliveries, and the actions on them
(add, edit, enable/disable, rotate the secret, send a test event, resend a delivery, delete).

A new or rotated secret is shown once, on the response that created it.
"""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tradeline.core.errors import ApplicationError
from tradeline.hooks import selectors, services
from tradeline.hooks.models import SUBSCRIBABLE
from tradeline.portal.session import broker_required

EVENT_HELP = {
    "order.paid": "an order was paid",
    "order.refunded": "an order was refunded (in full or in part)",
    "order.fulfilled": "the supplier accepted an order",
    "order.status_changed": "any change of an order's status",
    "commission.created": "you earned a commission",
    "commission.clawed_back": "a refund or lost dispute took commission back",
    "payout.sent": "we paid you",
}


def _page(request: HttpRequest, *, new_secret: str | None = None, form: dict | None = None,
          status: int = 200) -> HttpResponse:
    broker = request.broker
    endpoint_filter = request.GET.get("endpoint") or None
    endpoints = list(selectors.endpoints_for(broker=broker))
    if endpoint_filter not in {str(e.pk) for e in endpoints}:
        endpoint_filter = None
    return render(request, "portal/webhooks.html", {
        "nav": "webhooks",
        "endpoints": endpoints,
        "deliveries": selectors.deliveries_for(broker=broker, endpoint_id=endpoint_filter),
        "endpoint_filter": endpoint_filter,
        "event_types": [(name, EVENT_HELP[name]) for name in SUBSCRIBABLE],
        "can_add": len(endpoints) < settings.BROKER_WEBHOOKS_MAX_ENDPOINTS,
        "max_endpoints": settings.BROKER_WEBHOOKS_MAX_ENDPOINTS,
        "new_secret": new_secret,
        "form": form or {"events": ["order.paid"]},
        "overlap_hours": settings.BROKER_WEBHOOKS_SECRET_OVERLAP_SECONDS // 3600,
    }, status=status)


@never_cache
@broker_required
@require_http_methods(["GET", "POST"])
def webhooks(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    form = {"url": request.POST.get("url", "").strip(), "description": request.POST.get("description", ""),
            "events": request.POST.getlist("events")}
    try:
        endpoint, secret = services.webhook_endpoint_create(broker=request.broker, **form)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _page(request, form=form, status=400)
    messages.success(request, f"Endpoint added: {endpoint.url}. Copy its signing secret now: it is not shown again.")
    return _page(request, new_secret=secret)


@never_cache
@broker_required
@require_POST
def endpoint_action(request: HttpRequest, endpoint_id: str, action: str) -> HttpResponse:
    broker = request.broker
    try:
        if action == "update":
            services.webhook_endpoint_update(
                broker=broker, endpoint_id=endpoint_id, url=request.POST.get("url", "").strip(),
                events=request.POST.getlist("events"), description=request.POST.get("description", ""))
            messages.success(request, "Endpoint saved.")
        elif action in ("enable", "disable"):
            services.webhook_endpoint_update(broker=broker, endpoint_id=endpoint_id, enabled=action == "enable")
            messages.success(request, f"Endpoint {action}d.")
        elif action == "rotate":
            _, secret = services.webhook_secret_rotate(broker=broker, endpoint_id=endpoint_id,
                                                       overlap_seconds=_overlap(request.POST.get("overlap_hours")))
            messages.warning(request, "New signing secret created. Copy it now: it is not shown again. "
                                      "The old one keeps working until the overlap ends.")
            return _page(request, new_secret=secret)
        elif action == "test":
            services.webhook_send_test(broker=broker, endpoint_id=endpoint_id)
            messages.success(request, "Test event queued: it appears under Deliveries within seconds.")
        elif action == "delete":
            services.webhook_endpoint_delete(broker=broker, endpoint_id=endpoint_id)
            messages.success(request, "Endpoint deleted.")
        else:
            messages.error(request, "Unknown action.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("portal:webhooks")


@never_cache
@broker_required
@require_POST
def delivery_resend(request: HttpRequest, delivery_id: str) -> HttpResponse:
    try:
        services.webhook_delivery_resend(broker=request.broker, delivery_id=delivery_id)
        messages.success(request, "Delivery queued again (same event id).")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("portal:webhooks")


def _overlap(value) -> int:
    try:
        hours = int(value)
    except (TypeError, ValueError):
        return settings.BROKER_WEBHOOKS_SECRET_OVERLAP_SECONDS
    return max(0, min(hours, 168)) * 3600
