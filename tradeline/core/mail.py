"""Emails from templates an operator can change: `emails/<name>.subject.txt`, `<name>.txt` and
`<name>.html` (tradeline/templates/emails/, or the same names under EMAIL_TEMPLATE_DIR, which is
searched first). Sent as text with an HTML alternative. A mail failure is logged (template name
only, never an address) and never undoes the caller's work: call after the transaction commits.

send_rendered_email is the same for an app's own templates (`<app>/email/<name>.txt`, optionally
`.html`) with the subject given by the caller."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def _render_optional(template: str, context: dict) -> str | None:
    try:
        return render_to_string(template, context)
    except TemplateDoesNotExist:
        return None


def render_email(name: str, context: dict) -> tuple[str, str, str | None]:
    """(subject, text, html or None) of the template set `name`."""
    context = {"base_url": settings.PUBLIC_BASE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}.subject.txt", context).split())
    text = render_to_string(f"emails/{name}.txt", context)
    return subject, text, _render_optional(f"emails/{name}.html", context)


def _deliver(*, subject: str, text: str, html: str | None, recipients: list[str], name: str, about: str) -> bool:
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, recipients)
    if html:
        message.attach_alternative(html, "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP trouble must not undo what the caller recorded
        logger.warning("%scould not send the %s email (%s)", f"{about}: " if about else "", name,
                       type(exc).__name__)
        return False
    return True


def send_templated_email(name: str, *, to: list[str], context: dict) -> bool:
    recipients = [address for address in to if address]
    if not recipients:
        return False
    subject, text, html = render_email(name, context)
    return _deliver(subject=subject, text=text, html=html, recipients=recipients, name=name, about="")


def send_rendered_email(*, template: str, subject: str, to: list[str], context: dict, about: str) -> bool:
    """Render `template`.txt (and `template`.html when it exists) and send it to the non-empty
    addresses of `to`. False when there is nobody to send to or the mail server failed; the failure
    is logged with `about` (e.g. "order <id>"), never an address."""
    recipients = [address for address in to if address]
    if not recipients:
        return False
    text = render_to_string(f"{template}.txt", context)
    html = _render_optional(f"{template}.html", context)
    return _deliver(subject=subject, text=text, html=html, recipients=recipients,
                    name=template.rsplit("/", 1)[-1], about=about)
