"""Writes of the widget app: the demo page's settings."""

from django.db import transaction

from tradeline.brokers.models import Broker
from tradeline.core.errors import ValidationFailed
from tradeline.widget.models import DemoPage


@transaction.atomic
def demo_page_set(*, broker: Broker, publishable_key: str, title: str = "") -> DemoPage:
    """Point `/demo/` at `broker`, embedding the widget with `publishable_key` (replaces any earlier page)."""
    if not publishable_key.startswith("tlm_pk_"):
        raise ValidationFailed("The demo page needs a publishable key (tlm_pk_...).", code="DEMO_KEY_INVALID")
    DemoPage.objects.all().delete()
    return DemoPage.objects.create(broker=broker, publishable_key=publishable_key,
                                   title=title or broker.business_name or broker.name)


@transaction.atomic
def demo_page_follow_key(*, broker: Broker, publishable_key: str) -> bool:
    """After `broker` rotated its publishable key: the demo page (the broker's website, in the demo)
    embeds the new one. Returns whether a demo page sells for this broker."""
    if not publishable_key.startswith("tlm_pk_"):
        return False
    return DemoPage.objects.filter(broker=broker).update(publishable_key=publishable_key) > 0
