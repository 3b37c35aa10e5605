"""Portal pages about getting paid: Stripe Connect onboarding ("Get paid"), tax details and the
yearly statement (printable page and CSV). Thin: one service or selector call per view."""

import logging
from functools import wraps
from urllib.parse import urlsplit

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tradeline.core.errors import ApplicationError
from tradeline.payouts import statements, tax
from tradeline.payouts.models import TaxProfile
from tradeline.payouts.services.connect import connect_account_refresh, connect_onboarding_link, connected_account_of
from tradeline.payouts.services.tax import tax_profile_save
from tradeline.portal.session import broker_required

logger = logging.getLogger(__name__)

TAX_FIELDS = ("legal_name", "business_type", "tin_type", "address_line1", "address_line2", "city", "state",
              "postal_code")


def _onboarding_redirect(request: HttpRequest) -> HttpResponse:
    try:
        url = connect_onboarding_link(
            broker=request.broker,
            refresh_url=request.build_absolute_uri(reverse("portal:get-paid-refresh")),
            return_url=request.build_absolute_uri(reverse("portal:get-paid-return")))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("portal:get-paid")
    return redirect(url)


ONBOARDING_ORIGIN = "https://connect.stripe.com"


def _onboarding_origins() -> list[str]:
    origins = [ONBOARDING_ORIGIN]
    if settings.STRIPE_API_BASE:  # the local Stripe server serves the onboarding page itself
        parts = urlsplit(settings.STRIPE_API_BASE)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


def _onboarding_form_targets(view):
    """The portal's policy with Stripe's onboarding host allowed as a form target (django-csp's
    csp_update): the onboarding button posts here and is redirected there, and form-action also
    covers the redirect. The origins are read per request (settings may name the local server)."""
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        return csp_update({"form-action": _onboarding_origins()})(view)(request, *args, **kwargs)
    return wrapped


@never_cache
@broker_required
@require_GET
@_onboarding_form_targets
def get_paid(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/get_paid.html", {
        "nav": "get-paid", "account": connected_account_of(request.broker),
        "tax_profile": TaxProfile.objects.filter(broker=request.broker).first(),
    })


@csrf_protect
@broker_required
@require_POST
def get_paid_start(request: HttpRequest) -> HttpResponse:
    """Start (or continue) Stripe onboarding: the account is created once, the link is always new."""
    return _onboarding_redirect(request)


@never_cache
@broker_required
@require_GET
def get_paid_refresh(request: HttpRequest) -> HttpResponse:
    """Stripe sends the broker here when a link expired or was used: make a new one."""
    return _onboarding_redirect(request)


@never_cache
@broker_required
@require_GET
def get_paid_return(request: HttpRequest) -> HttpResponse:
    """Back from Stripe: ask Stripe for the account's state now (the webhook may come later)."""
    try:
        account = connect_account_refresh(broker=request.broker)
    except ApplicationError as exc:
        messages.warning(request, f"Could not read your Stripe account right now: {exc.message}")
        return redirect("portal:get-paid")
    if account is not None and account.can_receive:
        messages.success(request, "Your Stripe account is ready: payouts are sent to it.")
    elif account is not None:
        messages.warning(request, "Stripe still needs some details before it can pay you.")
    return redirect("portal:get-paid")


@never_cache
@sensitive_post_parameters("tin")
@csrf_protect
@broker_required
@require_http_methods(["GET", "POST"])
def tax_details(request: HttpRequest) -> HttpResponse:
    profile = TaxProfile.objects.filter(broker=request.broker).first()
    values = {name: getattr(profile, name) for name in TAX_FIELDS} if profile else {"business_type": "INDIVIDUAL",
                                                                                    "tin_type": "SSN"}
    status = 200
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in TAX_FIELDS}
        try:
            tax_profile_save(broker=request.broker, tin=request.POST.get("tin", ""), **values)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            status = exc.status if 400 <= exc.status < 500 else 503
        else:
            messages.success(request, "Your tax details are saved.")
            return redirect("portal:tax")
    return render(request, "portal/tax.html", {
        "nav": "tax", "profile": profile, "values": values, "configured": tax.configured(),
        "business_types": TaxProfile.BusinessType.choices, "tin_types": TaxProfile.TinType.choices,
    }, status=status)


def _year(request: HttpRequest) -> int:
    try:
        return int(request.GET.get("year") or timezone.now().year)
    except ValueError:
        return timezone.now().year


@never_cache
@broker_required
@require_GET
def statement(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    try:
        data = statements.broker_statement(broker=request.broker, year=year)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("portal:statement")
    this_year = timezone.now().year
    return render(request, "portal/statement.html", {"nav": "statement", "statement": data, "year": year,
                                                     "years": range(this_year, this_year - 5, -1)})


@never_cache
@broker_required
@require_GET
def statement_csv(request: HttpRequest, year: int) -> HttpResponse:
    try:
        data = statements.broker_statement(broker=request.broker, year=year)
    except ApplicationError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain")
    response = HttpResponse(statements.broker_statement_csv(data), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="statement-{year}.csv"'
    return response
