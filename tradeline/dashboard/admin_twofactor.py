"""Two-factor sign-in in the Django admin (rules in tradeline/brokers/twofactor.py).

- The login form takes an optional "authentication code" (TOTP or recovery code); an admin with
  a device must give a right one, and the session is then marked verified (django-otp).
- `has_permission` refuses an admin who must use 2FA (SUPER_ADMIN/ADMIN, ADMIN_REQUIRE_2FA) and
  whose session is not verified; one without a device yet is sent to /admin/2fa/ to enrol.
- /admin/2fa/: enrolment with a QR code, recovery codes shown once, new recovery codes.
"""

from functools import wraps

import django_otp
from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from tradeline.brokers import twofactor
from tradeline.core.errors import ValidationFailed


class TwoFactorAdminLoginForm(AdminAuthenticationForm):
    otp_code = forms.CharField(
        label="Authentication code", required=False, max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}),
        help_text="From your authenticator app, or one of your recovery codes.",
    )

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and twofactor.admin_has_2fa(user):
            device = twofactor.second_factor_verify(user=user, code=cleaned.get("otp_code"))
            if device is None:
                raise forms.ValidationError("Enter a valid authentication code.", code="invalid_otp")
            user.otp_device = device  # django-otp marks the session verified when it logs the user in
        return cleaned


def _needs_verification(request) -> bool:
    user = request.user
    # getattr: right after login() request.user is the form's user, which OTPMiddleware never saw.
    return (user.is_authenticated and twofactor.admin_requires_2fa(user)
            and getattr(user, "otp_device", None) is None)


def _verified_permission(has_permission):
    @wraps(has_permission)
    def check(request):
        return has_permission(request) and not _needs_verification(request)

    return check


def _enrolment_redirect(login_view):
    """An admin who signed in with a password but has no device yet goes to the enrolment page."""

    @wraps(login_view)
    def view(request, extra_context=None):
        response = login_view(request, extra_context)
        user = request.user
        if (user.is_authenticated and user.is_staff and _needs_verification(request)
                and not twofactor.admin_has_2fa(user)):
            return redirect("admin:two-factor")
        return response

    return view


@never_cache
@csrf_protect
def two_factor_view(request):
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return redirect(f"{reverse('admin:login')}?next={reverse('admin:two-factor')}")
    has_device = twofactor.admin_has_2fa(user)
    if has_device and getattr(user, "otp_device", None) is None:
        return redirect(f"{reverse('admin:login')}?next={reverse('admin:two-factor')}")
    context = {**admin.site.each_context(request), "title": "Two-factor sign-in", "has_device": has_device,
               "required": twofactor.admin_requires_2fa(user)}
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "confirm":
        try:
            device, codes = twofactor.totp_enrol_confirm(user=user, device_id=_int(request.POST.get("device_id")),
                                                         code=request.POST.get("code", ""))
        except ValidationFailed as exc:
            context["error"] = exc.message
        else:
            django_otp.login(request, device)
            return render(request, "admin/twofactor/codes.html", {**context, "codes": codes, "has_device": True})
    elif action == "regenerate" and has_device:
        codes = twofactor.recovery_codes_regenerate(user=user)
        return render(request, "admin/twofactor/codes.html", {**context, "codes": codes})
    if action == "enrol" or not has_device or "error" in context:
        device = twofactor.totp_enrol_start(user=user)
        context.update(device=device, qr_svg=twofactor.totp_qr_svg(device), secret=twofactor.totp_secret_text(device))
    context["codes_left"] = twofactor.recovery_codes_left(user)
    return render(request, "admin/twofactor/setup.html", context)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def install(site: admin.AdminSite) -> None:
    site.login_form = TwoFactorAdminLoginForm
    site.has_permission = _verified_permission(site.has_permission)
    site.login = _enrolment_redirect(site.login)
    get_urls = site.get_urls

    def urls():
        return [path("2fa/", two_factor_view, name="two-factor"), *get_urls()]

    site.get_urls = urls
