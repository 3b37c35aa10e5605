"""Emails from templates an operator can change: `emails/<name>.subject.txt`, `<name>.txt` and
`<name>.html` (tradeline/templates/emails/, or the same names under EMAIL_TEMPLATE_DIR, which is
searched first). Sent as text with an HTML alternative. A mail failure is logged (template name
only, never an address) and never undoes the caller's work: call after the transaction commits."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def render_email(name: str, context: dict) -> tuple[str, str, str | None]:
    """(subject, text, html or None) of the template set `name`."""
    context = {"base_url": settings.PUBLIC_BASE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}.subject.txt", context).split())
    text = render_to_string(f"emails/{name}.txt", context)
    try:
        html = render_to_string(f"emails/{name}.html", context)
    except TemplateDoesNotExist:
        html = None
    return subject, text, html


def send_templated_email(name: str, *, to: list[str], context: dict) -> bool:
    recipients = [address for address in to if address]
    if not recipients:
        return False
    subject, text, html = render_email(name, context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, recipients)
    if html:
        message.attach_alternative(html, "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP trouble must not undo what the caller did
        logger.warning("could not send the %s email (%s)", name, type(exc).__name__)
        return False
    return True
