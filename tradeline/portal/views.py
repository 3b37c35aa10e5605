"""The broker portal (`/portal/`): a broker's sales, earnings, orders, payouts, settings and keys.

Views are thin: a form or a query string in, one service or selector call, a template out.
Business errors (ApplicationError) become messages on the page, never 500s.
"""

import logging
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tradeline.analytics.selectors import broker_daily_funnel, broker_performance, daily_sales
from tradeline.audit.models import ActorType
from tradeline.brokers.models import KeyKind, MarkupType
from tradeline.brokers.services import broker_authenticate, broker_keys_rotate, broker_update_settings
from tradeline.core import ratelimit
from tradeline.core.errors import ApplicationError, NotFound, RateLimited
from tradeline.core.money import cents_to_usd
from tradeline.core.text import attachment_header
from tradeline.orders.list_selectors import order_latest, order_list
from tradeline.orders.models import OrderStatus
from tradeline.orders.selectors import order_detail as order_detail_data
from tradeline.orders.selectors import order_get
from tradeline.payouts.selectors import PAGE_ORDER_LINES, broker_earnings, payout_report, payout_report_csv
from tradeline.portal import selectors
from tradeline.portal.forms import LoginForm, MarkupForm
from tradeline.portal.session import broker_required, current_broker, portal_login, portal_logout, safe_next
from tradeline.widget.services import demo_page_follow_key

logger = logging.getLogger(__name__)

LOGIN_SCOPE = "portal-login"


def _login_rule() -> str:
    return settings.RATE_LIMIT_LOGIN


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and current_broker(request) is not None:
        return redirect("portal:dashboard")
    form = LoginForm(request.POST or None)
    error = None
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        try:
            # A slot per IP and email is taken before the password is checked (parallel guesses
            # cannot all be judged); a success gives it back.
            attempt = ratelimit.acquire(request, scope=LOGIN_SCOPE, rule=_login_rule(), identity=email)
            broker = broker_authenticate(email=email, password=form.cleaned_data["password"])
            if broker is None:
                error, status = "That email and password do not match an active broker account.", 400
            else:
                attempt.succeeded()
                portal_login(request, broker)
                return redirect(safe_next(request, reverse("portal:dashboard")))
        except RateLimited as exc:
            error, status = f"Too many sign-in attempts. Try again in {exc.retry_after} seconds.", 429
        except ApplicationError as exc:  # e.g. a suspended account
            error, status = exc.message, 403
    elif request.method == "POST":
        error, status = "Enter your email and password.", 400
    return render(request, "portal/login.html", {"form": form, "error": error,
                                                 "next": request.GET.get("next", "")}, status=status)


@require_POST
@csrf_protect
def logout_view(request: HttpRequest) -> HttpResponse:
    portal_logout(request)
    messages.info(request, "You are signed out.")
    return redirect("portal:login")


def _earnings(broker) -> dict | None:
    return broker_earnings(broker=broker)


@never_cache
@broker_required
def dashboard(request: HttpRequest) -> HttpResponse:
    broker = request.broker
    return render(request, "portal/dashboard.html", {
        "nav": "dashboard",
        "performance": broker_performance(broker=broker),
        "earnings": _earnings(broker),
        "sales_series": daily_sales(broker=broker, days=30),
        "funnel_series": broker_daily_funnel(broker=broker, days=30),
        "recent": order_latest(broker=broker, limit=5),
    })


def _orders_page(broker, *, status, page, limit=25) -> dict:
    return order_list(broker=broker, status=status, page=page, limit=limit)


def _int_param(request: HttpRequest, name: str, default: int) -> int:
    try:
        value = int(request.GET.get(name, default))
    except (TypeError, ValueError):
        return default
    return max(1, min(value, 10_000))


@never_cache
@broker_required
def orders(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    if status not in (None, *OrderStatus.values):
        status = None
    page = _int_param(request, "page", 1)
    result = _orders_page(request.broker, status=status, page=page)
    pagination = result["pagination"]
    return render(request, "portal/orders.html", {
        "nav": "orders", "result": result, "status": status, "statuses": OrderStatus.choices,
        "prev_page": page - 1 if page > 1 else None,
        "next_page": page + 1 if page < pagination["pages"] else None,
    })


@never_cache
@broker_required
def order_detail(request: HttpRequest, order_id) -> HttpResponse:
    try:
        order = order_get(order_id=order_id, broker=request.broker)
    except NotFound:
        raise Http404("Order not found") from None
    return render(request, "portal/order_detail.html", {
        "nav": "orders", "order": order, "detail": order_detail_data(order=order, internal=False),
    })


@never_cache
@broker_required
def payouts(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/payouts.html", {
        "nav": "payouts", "payouts": selectors.broker_payouts(broker=request.broker)[:120],
        "earnings": _earnings(request.broker),
    })


def _payout_or_404(request: HttpRequest, payout_id):
    try:
        return selectors.broker_payout_get(broker=request.broker, payout_id=payout_id)
    except NotFound:
        raise Http404("Payout not found") from None


@never_cache
@broker_required
def payout_detail(request: HttpRequest, payout_id) -> HttpResponse:
    payout = _payout_or_404(request, payout_id)
    return render(request, "portal/payout_detail.html", {
        "nav": "payouts", "payout": payout, "report": payout_report(payout=payout, order_limit=PAGE_ORDER_LINES),
    })


@never_cache
@broker_required
def payout_csv(request: HttpRequest, payout_id) -> HttpResponse:
    payout = _payout_or_404(request, payout_id)
    response = HttpResponse(payout_report_csv(payout=payout), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = attachment_header("payout", f"{payout.period_start:%Y-%m}", ext="csv")
    return response


def _markup_initial(broker) -> dict:
    return {"markup_type": broker.markup_type, "markup_percent": broker.markup_percent,
            "markup_fixed_usd": cents_to_usd(broker.markup_fixed)}


@never_cache
@csrf_protect
@broker_required
@require_http_methods(["GET", "POST"])
def markup_settings(request: HttpRequest) -> HttpResponse:
    broker = request.broker
    if request.method == "POST":
        form = MarkupForm(request.POST)
        if form.is_valid():
            try:
                broker_update_settings(broker=broker, **form.settings())
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "Your markup is saved; the widget shows the new prices right away.")
                return redirect("portal:settings")
    else:
        form = MarkupForm(initial=_markup_initial(broker))
    preview = selectors.markup_preview(broker=broker, markup_type=broker.markup_type,
                                       markup_percent=broker.markup_percent, markup_fixed=broker.markup_fixed)
    return render(request, "portal/settings.html", {"nav": "settings", "form": form, "preview": preview,
                                                    "markup_fixed_max": settings.BROKER_MARKUP_FIXED_MAX_CENTS})


@never_cache
@broker_required
@require_GET
def markup_preview(request: HttpRequest) -> JsonResponse:
    """Live preview for the settings form: prices computed on the server by the pricing engine."""
    markup_type = request.GET.get("markup_type", MarkupType.PERCENTAGE)
    form = MarkupForm(request.GET)
    if not form.is_valid():  # the same checks as saving: an invalid markup has no preview
        errors = [error for field in ("markup_fixed_usd", "markup_percent", "markup_type", "__all__")
                  for error in form.errors.get(field, [])]
        return JsonResponse({"error": errors[0] if errors else "Enter a valid markup.", "code": "MARKUP_INVALID",
                             "details": form.errors.get_json_data()}, status=422)
    try:
        percent = form.cleaned_data.get("markup_percent") or Decimal(0)
        rows = selectors.markup_preview(broker=request.broker, markup_type=markup_type,
                                        markup_percent=percent, markup_fixed=form.cleaned_data["markup_fixed_usd"])
    except ApplicationError as exc:
        return JsonResponse({"error": exc.message, "code": exc.code}, status=exc.status)
    money = ("base_price", "customer_price", "revenue_share", "markup", "earnings", "credit_limit")
    return JsonResponse({"rows": [
        {**row, **{f"{name}_usd": cents_to_usd(row[name]) for name in money}} for row in rows
    ]})


def _rotate(request: HttpRequest, kind: str | None) -> dict[str, str] | None:
    try:
        return broker_keys_rotate(broker_id=request.broker.pk, kind=kind, actor_type=ActorType.BROKER)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return None


def _publishable(new_keys: dict | None) -> str | None:
    for name, value in (new_keys or {}).items():
        if isinstance(value, str) and value.startswith("tlm_pk_"):
            return value
    return None


@never_cache
@csrf_protect
@broker_required
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    """Live keys (prefixes only); rotating shows the new plaintext keys once, on this response only."""
    new_keys = None
    if request.method == "POST":
        kind = request.POST.get("kind") or None
        if kind not in (None, "ALL", KeyKind.PUBLISHABLE, KeyKind.SECRET):
            messages.error(request, "Choose which key to rotate.")
        else:
            new_keys = _rotate(request, None if kind == "ALL" else kind)
            if _publishable(new_keys):
                demo_page_follow_key(broker=request.broker, publishable_key=_publishable(new_keys))
            if new_keys:
                messages.warning(request, "New keys created. Copy them now: they are not shown again. "
                                          "The old keys stopped working.")
    return render(request, "portal/keys.html", {
        "nav": "keys", "keys": selectors.broker_live_keys(broker=request.broker), "new_keys": new_keys,
        "embed_code": _embed_code(_publishable(new_keys)) if new_keys else None,
    })


def _embed_code(publishable_key: str | None) -> str:
    key = publishable_key or "YOUR_PUBLISHABLE_KEY"
    return f'<script src="{settings.PUBLIC_BASE_URL}/widget.js" data-key="{key}"></script>'


@never_cache
@broker_required
def embed(request: HttpRequest) -> HttpResponse:
    live = [key for key in selectors.broker_live_keys(broker=request.broker) if key.kind == KeyKind.PUBLISHABLE]
    return render(request, "portal/embed.html", {
        "nav": "embed", "embed_code": _embed_code(None), "publishable": live[0] if live else None,
        "widget_src": f"{settings.PUBLIC_BASE_URL}/widget.js",
    })
