"""Emails to brokers (templates in tradeline/templates/emails/, overridable: see core/mail.py).
Called after the transaction that made the change commits."""

from django.conf import settings

from tradeline.brokers.models import Broker
from tradeline.core.mail import send_templated_email


def embed_code(publishable_key: str | None) -> str:
    key = publishable_key or "YOUR_PUBLISHABLE_KEY"
    return f'<script src="{settings.PUBLIC_BASE_URL}/widget.js" data-key="{key}"></script>'


def send_welcome(*, broker: Broker, publishable_key: str | None = None) -> bool:
    return send_templated_email("broker_welcome", to=[broker.email], context={
        "broker": broker, "embed_code": embed_code(publishable_key), "has_key": bool(publishable_key)})


def send_password_reset(*, broker: Broker, link: str) -> bool:
    return send_templated_email("broker_password_reset", to=[broker.email], context={
        "broker": broker, "link": link, "hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)})


def send_password_changed(*, broker: Broker) -> bool:
    return send_templated_email("broker_password_changed", to=[broker.email], context={"broker": broker})


def send_email_change_confirm(*, broker: Broker, new_email: str, link: str) -> bool:
    return send_templated_email("broker_email_change_confirm", to=[new_email], context={
        "broker": broker, "new_email": new_email, "link": link})


def send_email_changed(*, broker: Broker, old_email: str) -> bool:
    return send_templated_email("broker_email_changed", to=[old_email], context={
        "broker": broker, "old_email": old_email})
