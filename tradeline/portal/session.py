"""Broker portal sessions: the broker's id in the Django session under its own key.

Separate from the admin login (Django's auth user): logging into one never logs into the other,
and logging out of the portal leaves an admin session alone.
"""

from functools import wraps

from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from tradeline.brokers.models import Broker, BrokerStatus

SESSION_KEY = "portal_broker_id"
SESSION_PASSWORD_KEY = "portal_broker_pw"  # a fragment of the password hash: a password change logs out
PORTAL_STATUSES = (BrokerStatus.ACTIVE, BrokerStatus.PENDING, BrokerStatus.SUSPENDED)  # INACTIVE: no access


def _password_marker(broker: Broker) -> str:
    return broker.password[-16:]


def portal_login(request: HttpRequest, broker: Broker) -> None:
    request.session.cycle_key()  # no session fixation
    request.session[SESSION_KEY] = str(broker.pk)
    request.session[SESSION_PASSWORD_KEY] = _password_marker(broker)


def portal_logout(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.pop(SESSION_PASSWORD_KEY, None)
    request.session.cycle_key()


def current_broker(request: HttpRequest) -> Broker | None:
    broker_id = request.session.get(SESSION_KEY)
    if not broker_id:
        return None
    broker = Broker.objects.filter(pk=broker_id, status__in=PORTAL_STATUSES).first()
    if broker is None or not broker.password or request.session.get(SESSION_PASSWORD_KEY) != _password_marker(broker):
        portal_logout(request)
        return None
    return broker


def broker_required(view):
    """The view runs with `request.broker` set, or the visitor is sent to the portal login."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        broker = current_broker(request)
        if broker is None:
            return redirect(f"{reverse('portal:login')}?next={request.get_full_path()}")
        request.broker = broker
        return view(request, *args, **kwargs)

    return wrapper


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/portal/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
