"""GET /status/<order id>/<token>: the customer's order-status page (no login; the signed link is
the credential). A bad or unknown token is a plain 404; every request counts against the client's
rate limit (RATE_LIMIT_STATUS_PAGE), so links cannot be guessed by brute force. Each view is logged
as evidence (time, IP, browser)."""

import uuid

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tradeline.core import ratelimit
from tradeline.core.errors import RateLimited
from tradeline.evidence.services import status_view_record
from tradeline.orders.models import Order
from tradeline.orders.status_link import status_token_valid
from tradeline.orderstatus.selectors import order_status_view


@require_GET
def order_status_page(request: HttpRequest, order_id: str, token: str) -> HttpResponse:
    try:
        ratelimit.enforce(request, scope="status-page", rule=settings.RATE_LIMIT_STATUS_PAGE)
    except RateLimited as exc:
        response = HttpResponse("Too many requests. Try again in a minute.", status=429,
                                content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(exc.retry_after)
        return response
    try:
        parsed = uuid.UUID(order_id)
    except ValueError as exc:
        raise Http404("Unknown order link") from exc
    order = Order.objects.select_related("broker").filter(pk=parsed).first() \
        if status_token_valid(parsed, token) else None
    if order is None:
        raise Http404("Unknown order link")
    as_json = request.GET.get("format") == "json"
    status_view_record(order_id=order.pk, client_ip=ratelimit.client_ip(request),
                       user_agent=request.headers.get("user-agent", ""), as_json=as_json)
    view = order_status_view(order=order, today=timezone.now().date())
    if as_json:
        response = JsonResponse(view)
    else:
        response = render(request, "orderstatus/page.html", {"view": view})
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
