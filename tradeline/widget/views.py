"""The embeddable widget script and the demo shop page that embeds it."""

import hashlib
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tradeline.orders.status_link import status_url
from tradeline.widget.return_status import REFRESH_SECONDS, names_an_order, return_status
from tradeline.widget.selectors import demo_order_for_return, demo_page_current, demo_page_key_live

# widget.js is written as a few parts (each a slice of one function scope: 00-setup.js opens it,
# 90-api.js closes it), served joined in name order as one script.
WIDGET_PARTS = Path(__file__).resolve().parent / "static" / "tradeline" / "widget"
WIDGET_MAX_AGE = 300  # seconds; brokers' pages pick up a new version within five minutes


def widget_parts() -> list[Path]:
    return sorted(WIDGET_PARTS.glob("*.js"))


def widget_source() -> bytes:
    """The script served at /widget.js."""
    return b"".join(part.read_bytes() for part in widget_parts())


@lru_cache(maxsize=4)
def _widget_source(stamp: tuple) -> tuple[bytes, str]:
    body = widget_source()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def widget_js(request: HttpRequest) -> HttpResponse:
    """`/widget.js`: plain JavaScript, cacheable, loadable from any origin."""
    body, etag = _widget_source(tuple((part.name, part.stat().st_mtime_ns) for part in widget_parts()))
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={WIDGET_MAX_AGE}, stale-while-revalidate=3600",
               "Vary": "Accept-Encoding"}
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    for name, value in headers.items():
        response[name] = value
    return _cors(response)


def _demo_context(request: HttpRequest) -> dict:
    page = demo_page_current()
    return {
        "page": page,
        "shop_name": page.title if page else "Prime Credit Partners",
        "widget_src": request.build_absolute_uri("/widget.js"),
        "success_url": request.build_absolute_uri("/demo/success") + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": request.build_absolute_uri("/demo/cart"),
        "public_base_url": settings.PUBLIC_BASE_URL,
    }


@require_GET
def demo_page(request: HttpRequest) -> HttpResponse:
    """`/demo/`: a broker's website as a customer sees it, with the widget embedded by one script tag."""
    context = _demo_context(request)
    context["key_revoked"] = bool(context["page"]) and not demo_page_key_live(context["page"])
    return render(request, "widget/demo.html", context, status=200 if context["page"] else 503)


def _return_context(request: HttpRequest) -> dict:
    session_id, number = request.GET.get("session_id", ""), request.GET.get("order", "")
    order = demo_order_for_return(session_id=session_id, order_number=number)
    shown = return_status(order, link_named_an_order=names_an_order(session_id, number))
    # The signed status link only for a return that names the Checkout Session (unguessable): an
    # order number alone must not hand out the customer's link.
    link = status_url(order.pk) if order is not None and session_id and "{" not in session_id else None
    return {"order": order, "shown": shown, "refresh_seconds": REFRESH_SECONDS, "status_url": link}


@require_GET
def demo_success(request: HttpRequest) -> HttpResponse:
    """Where Stripe Checkout sends the demo shop's customer back: the order's state, in plain words."""
    return render(request, "widget/demo_success.html", {**_demo_context(request), **_return_context(request)})


@require_GET
def demo_cart(request: HttpRequest) -> HttpResponse:
    """Where Stripe Checkout sends a customer who cancels: the shop again, with a note."""
    context = _demo_context(request)
    return render(request, "widget/demo.html", {**context, "cancelled": True},
                  status=200 if context["page"] else 503)


@require_GET
def checkout_success(request: HttpRequest) -> HttpResponse:
    """Our own return page after Stripe Checkout, for brokers with no website and no success_url."""
    return render(request, "widget/checkout_return.html", {**_return_context(request), "cancelled": False})


@require_GET
def checkout_cancel(request: HttpRequest) -> HttpResponse:
    order = demo_order_for_return(order_number=request.GET.get("order", ""))
    return render(request, "widget/checkout_return.html", {"order": order, "cancelled": True})
