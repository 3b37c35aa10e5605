"""Shared pieces of the customized Django admin: role-based permissions and service-backed actions.

Admins are Django staff users with an AdminProfile role (brokers.models.AdminRole); a superuser
without a profile counts as SUPER_ADMIN. Every role may read; SUPPORT may only read. Rows of
money-bearing models are never edited through the generic admin forms: changes go through the
services (record payment, refund, approve, run payouts, ...) by the action forms on each page.
"""

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from tradeline.brokers.auth import WRITE_ROLES, admin_role
from tradeline.brokers.models import Broker
from tradeline.core.admin_utils import MoneyReadOnlyAdmin
from tradeline.core.errors import ApplicationError
from tradeline.dashboard.templatetags.tradeline_ui import status_badge


def role_of(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return None
    return admin_role(user)


def can_read(request: HttpRequest) -> bool:
    return role_of(request) is not None


def can_write(request: HttpRequest) -> bool:
    return role_of(request) in WRITE_ROLES


class RoleAdminMixin:
    """Any admin role may view; nothing is added, edited or deleted through the generic forms."""

    actions = None

    def has_module_permission(self, request):
        return can_read(request)

    def has_view_permission(self, request, obj=None):
        return can_read(request)

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(RoleAdminMixin, MoneyReadOnlyAdmin):
    """Read-only for every admin role; `money_fields` (cents) are shown as dollars on the detail page."""


def status_column(field: str = "status", label: str | None = None):
    """A list column showing a status field as a badge (sortable by that field)."""

    @admin.display(description=label or field, ordering=field)
    def column(model_admin, obj):
        return status_badge(getattr(obj, field))

    return column


class ObjectActionsMixin:
    """A detail page whose actions are forms POSTed to `<object_id>/action/<action>/`.

    Declare `object_actions` (the action names) and `perform_action(request, obj, action)`, which
    is called for a POST of a known action on an existing object; add `action_urlpatterns()` to
    `get_urls()` and give the page `action_urls(obj)`.
    """

    object_actions: tuple[str, ...] = ()

    def action_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_action"

    def action_urlpatterns(self) -> list[URLPattern]:
        return [path("<path:object_id>/action/<str:action>/", self.admin_site.admin_view(self.action_view),
                     name=self.action_url_name())]

    def action_urls(self, obj) -> dict[str, str]:
        """Each action's URL for `obj`, keyed by its name with `_` for `-` (for the template)."""
        return {name.replace("-", "_"): reverse(f"admin:{self.action_url_name()}", args=[obj.pk, name])
                for name in self.object_actions}

    def change_url(self, obj) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])

    def action_view(self, request, object_id, action):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, unquote(object_id))
        if obj is None or action not in self.object_actions:
            raise Http404(f"Unknown {self.opts.model_name} or action")
        return self.perform_action(request, obj, action)

    def perform_action(self, request, obj, action: str):
        raise NotImplementedError

    def detail_response(self, request, obj, template: str, *, title: str, extra_context=None,
                        **context) -> TemplateResponse:
        """The detail page of `obj`: the admin's own context, `can_write` and the actions' URLs, then
        `context`, then the caller's `extra_context`."""
        return TemplateResponse(request, template, {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": obj, "title": title,
            "can_write": can_write(request), "action_urls": self.action_urls(obj), **context,
            **(extra_context or {}),
        })

    def rerender_invalid(self, request, obj, action: str, form):
        """The detail page again, with `form` (of `action`) showing its errors; status 400."""
        messages.error(request, "Please correct the errors below.")
        request._tl_forms = {action: form}
        response = self.change_view(request, str(obj.pk))
        response.status_code = 400
        return response


def error_text(exc: ApplicationError) -> str:
    details = exc.details
    extra = ""
    if isinstance(details, list):
        parts = [f"{d.get('field', '')}: {d.get('message', '')}".strip(": ") for d in details if isinstance(d, dict)]
        extra = "; ".join(part for part in parts if part)
    return f"{exc.message}" + (f" ({extra})" if extra and extra not in exc.message else "")


def run_service(request: HttpRequest, call: Callable[[], Any], success: str | Callable[[Any], str]) -> Any:
    """Call a service; a business error becomes an error message, success a success message.

    Returns the service's result, or None when it raised an ApplicationError.
    """
    if not can_write(request):
        messages.error(request, "Your role may only read; ask an administrator to do this.")
        return None
    try:
        result = call()
    except ApplicationError as exc:
        messages.error(request, error_text(exc))
        return None
    messages.success(request, success(result) if callable(success) else success)
    return result


def back_to(url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(url)


class BrokerFilter(admin.SimpleListFilter):
    """Filter a list by broker (`?broker__id__exact=<id>`, as the broker page links) without listing
    every broker in the sidebar: a thousand brokers made every list page load and draw a thousand
    links. Only the chosen broker is shown; brokers are found with the search box by name."""

    title = "broker"
    parameter_name = "broker__id__exact"

    def _broker(self):
        try:
            return Broker.objects.only("name").filter(pk=uuid.UUID(str(self.value()))).first()
        except ValueError:
            return None

    def lookups(self, request, model_admin):
        if not self.value():
            return []
        broker = self._broker()
        return [(str(broker.pk), broker.name)] if broker else [(self.value(), "no such broker")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        broker = self._broker()
        return queryset.filter(broker_id=broker.pk) if broker else queryset.none()
