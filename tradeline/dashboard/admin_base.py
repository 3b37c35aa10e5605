"""Shared pieces of the customized Django admin: role-based permissions and service-backed actions.

Admins are Django staff users with an AdminProfile role (brokers.models.AdminRole); a superuser
without a profile counts as SUPER_ADMIN. Every role may read; SUPPORT may only read. Rows of
money-bearing models are never edited through the generic admin forms: changes go through the
services (record payment, refund, approve, run payouts, ...) by the action forms on each page.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect

from tradeline.brokers.auth import WRITE_ROLES, admin_role
from tradeline.core.admin_utils import MoneyReadOnlyAdmin
from tradeline.core.errors import ApplicationError


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
