"""Site-wide settings of the admin (the customized index lives in templates/admin/index.html),
and a throttle on the admin's login form (per client IP and per username, RATE_LIMIT_LOGIN)."""

from functools import wraps

from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse

from tradeline.core import ratelimit
from tradeline.core.errors import RateLimited

admin.site.site_header = "Tradeline Marketplace"
admin.site.site_title = "Tradeline admin"
admin.site.index_title = "Overview"
admin.site.enable_nav_sidebar = False

LOGIN_SCOPE = "admin-login"


def throttled_login(login_view):
    """Each sign-in takes a slot before the password is checked (ratelimit.acquire); over the limit
    the form answers 429 without checking it; a success gives its slot back."""

    @wraps(login_view)
    def view(request, extra_context=None):
        if request.method != "POST":
            return login_view(request, extra_context)
        username = (request.POST.get("username") or "").strip().lower()[:254]
        rule = settings.RATE_LIMIT_LOGIN
        try:
            attempt = ratelimit.acquire(request, scope=LOGIN_SCOPE, rule=rule, identity=username or None)
        except RateLimited as exc:
            response = HttpResponse(
                f"Too many sign-in attempts. Try again in {exc.retry_after} seconds.", status=429,
                content_type="text/plain; charset=utf-8")
            response["Retry-After"] = str(exc.retry_after)
            return response
        response = login_view(request, extra_context)
        if response.status_code == 302:
            attempt.succeeded()
        return response

    return view


admin.site.login = throttled_login(admin.site.login)

# The model registrations of every domain app live beside this module, so that no domain app
# imports the dashboard; Django's autodiscovery imports this package, which imports them.
from tradeline.dashboard.admin import (  # noqa: E402, F401  (registration side effects)
    agreements,
    analytics,
    audit,
    brokers,
    catalog,
    orders,
    payments,
    payouts,
)
