"""Portal self-service: forgotten password, profile, password change, login email change.

Thin views over tradeline/brokers/selfservice.py (rules) and brokers.services.broker_update_settings
(the profile, validated exactly like the API's PATCH /api/brokers/me).
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from tradeline.brokers import selfservice
from tradeline.brokers.services import broker_update_settings
from tradeline.core.errors import ApplicationError, RateLimited, ValidationFailed
from tradeline.core.ratelimit import client_ip
from tradeline.portal.session import broker_required, portal_login

FORGOT_SENT = ("If a broker account uses this email, we have sent it a link to choose a new password. "
               "The link works once and expires.")
PROFILE_FIELDS = ("name", "business_name", "phone", "address", "website")


def _no_referrer(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "no-referrer"  # the reset token is in the URL
    return response


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def forgot_password(request: HttpRequest) -> HttpResponse:
    context, status = {"email": ""}, 200
    if request.method == "POST":
        email = (request.POST.get("email") or "").strip()[:254]
        context["email"] = email
        try:
            selfservice.broker_password_reset_request(email=email, ip=client_ip(request))
            context["sent"] = FORGOT_SENT
        except RateLimited as exc:
            context["error"], status = f"Too many requests. Try again in {exc.retry_after} seconds.", 429
    return render(request, "portal/forgot.html", context, status=status)


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def reset_password(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    try:
        broker = selfservice.broker_for_reset_link(uidb64=uidb64, token=token)
    except ApplicationError as exc:
        return _no_referrer(render(request, "portal/reset.html", {"invalid": exc.message}, status=400))
    context, status = {}, 200
    if request.method == "POST":
        password, again = request.POST.get("password", ""), request.POST.get("password2", "")
        if password != again:
            context["error"], status = "The two passwords differ.", 400
        else:
            try:
                broker = selfservice.broker_password_reset_confirm(uidb64=uidb64, token=token, password=password)
            except ApplicationError as exc:
                context["error"], status = _detail(exc), 400
            else:
                portal_login(request, broker)
                messages.success(request, "Your password is changed; you are signed in.")
                return redirect("portal:dashboard")
    return _no_referrer(render(request, "portal/reset.html", context, status=status))


def _detail(exc: ApplicationError) -> str:
    details = exc.details if isinstance(exc.details, list) else []
    extra = " ".join(d.get("message", "") for d in details if isinstance(d, dict) and d.get("type") == "weak_password")
    return f"{exc.message} {extra}".strip()


@never_cache
@broker_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    broker, status, errors = request.broker, 200, {}
    action = request.POST.get("action") if request.method == "POST" else None
    try:
        if action == "profile":
            fields = {name: request.POST.get(name, "") for name in PROFILE_FIELDS}
            fields["allowed_origins"] = [line.strip() for line in request.POST.get("allowed_origins", "").splitlines()
                                         if line.strip()]
            request.broker = broker = broker_update_settings(broker=broker, **fields)
            messages.success(request, "Profile saved.")
            return redirect("portal:profile")
        if action == "password":
            if request.POST.get("new_password") != request.POST.get("new_password2"):
                raise ValidationFailed("The two new passwords differ.", code="PASSWORDS_DIFFER")
            broker = selfservice.broker_password_change(broker=broker, current_password=request.POST.get("current", ""),
                                                        new_password=request.POST.get("new_password", ""))
            portal_login(request, broker)  # the session follows the new password
            messages.success(request, "Password changed. We emailed you about it.")
            return redirect("portal:profile")
        if action == "email":
            selfservice.broker_email_change_request(broker=broker, new_email=request.POST.get("new_email", ""),
                                                    password=request.POST.get("password", ""))
            messages.info(request, "We sent a confirmation link to the new address (unless another account uses "
                                   "it). Your login email changes once you open it.")
            return redirect("portal:profile")
    except ApplicationError as exc:
        status = 400
        errors[action] = _detail(exc)
        fields = exc.details if isinstance(exc.details, list) else []
        errors["fields"] = {d.get("field") for d in fields if isinstance(d, dict)}
    return render(request, "portal/profile.html", {"nav": "profile", "broker": broker, "errors": errors,
                                                   "origins": "\n".join(broker.allowed_origins or [])}, status=status)


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners follow links); POST makes the change."""
    if request.method == "GET":
        return _no_referrer(render(request, "portal/confirm_email.html", {}))
    try:
        broker = selfservice.broker_email_change_confirm(token=token)
    except ApplicationError as exc:
        return _no_referrer(render(request, "portal/confirm_email.html", {"error": exc.message}, status=400))
    messages.success(request, f"Your login email is now {broker.email}.")
    return redirect("portal:login")
