from django import template

from tradeline.dashboard.outbox import outbox_enabled as _outbox_enabled

register = template.Library()


@register.simple_tag
def outbox_enabled() -> bool:
    """True in development with the file mail backend: the admin shows its Outbox link."""
    return _outbox_enabled()
