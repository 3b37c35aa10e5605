"""Portal page `/portal/theme/`: the broker's widget look and return URLs, with a live preview.

The preview is the real widget.js, mounted with `TradelineWidget.init({preview: ...})` on a few of
the broker's own tradelines (their customer prices, from the same price list the widget loads);
the form's inputs restyle it as they change. Nothing is saved until the form is submitted.
"""

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from tradeline.catalog.selectors import broker_pricing_json
from tradeline.core.errors import ApplicationError
from tradeline.portal.forms import ThemeForm
from tradeline.portal.session import broker_required
from tradeline.widget.selectors import widget_config, widget_theme_get
from tradeline.widget.services import widget_theme_set

PREVIEW_TRADELINES = 6


def _preview_tradelines(broker) -> list[dict]:
    try:
        catalog = json.loads(broker_pricing_json(broker=broker))
    except ApplicationError:
        return []
    return catalog["tradelines"][:PREVIEW_TRADELINES]


def _initial(broker) -> dict:
    """The saved theme with defaults filled in; the return URLs as saved (blank = the default)."""
    saved = widget_theme_get(broker=broker)
    return {**widget_config(broker=broker)["theme"], "success_url": saved.success_url if saved else "",
            "cancel_url": saved.cancel_url if saved else ""}


@never_cache
@csrf_protect
@broker_required
@require_http_methods(["GET", "POST"])
def theme(request: HttpRequest) -> HttpResponse:
    broker = request.broker
    status = 200
    if request.method == "POST":
        form = ThemeForm(request.POST)
        if form.is_valid():
            try:
                widget_theme_set(broker=broker, **form.cleaned_data)
            except ApplicationError as exc:
                for problem in exc.details if isinstance(exc.details, list) else []:
                    if problem.get("field") in form.fields:
                        form.add_error(problem["field"], problem.get("message", "invalid"))
                if not form.errors:
                    form.add_error(None, exc.message)
                status = 422
            else:
                messages.success(request, "Your widget theme is saved; your website shows it on the next page load.")
                return redirect("portal:theme")
        else:
            status = 422
    else:
        form = ThemeForm(initial=_initial(broker))
    preview = {"broker": {"id": str(broker.pk), "public_name": broker.business_name or broker.name},
               "tradelines": _preview_tradelines(broker)}
    return render(request, "portal/theme.html", {
        "nav": "theme", "form": form, "preview": preview,
    }, status=status)
