"""Writes of the widget app: the demo page's settings and brokers' widget themes."""

import re

from django.db import transaction

from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_log
from tradeline.brokers.models import Broker
from tradeline.core.errors import ValidationFailed
from tradeline.orders.services import clean_return_url
from tradeline.widget.models import DemoPage, WidgetFont, WidgetSort, WidgetTheme

COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_RADIUS = 24
MAX_COLUMNS = 4
MAX_TITLE = 80


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


def _problems(fields: dict) -> list[dict]:
    problems = []
    for name in ("primary_color", "text_color", "background_color"):
        if fields[name] and not COLOR.match(fields[name]):
            problems.append({"field": name, "message": "a colour such as #2563eb"})
    if fields["font_family"] not in WidgetFont.values:
        problems.append({"field": "font_family", "message": f"one of {', '.join(WidgetFont.values)}"})
    if fields["default_sort"] not in WidgetSort.values:
        problems.append({"field": "default_sort", "message": f"one of {', '.join(WidgetSort.values)}"})
    if not 0 <= fields["corner_radius"] <= MAX_RADIUS:
        problems.append({"field": "corner_radius", "message": f"0 to {MAX_RADIUS} pixels"})
    if not 0 <= fields["columns"] <= MAX_COLUMNS:
        problems.append({"field": "columns", "message": f"0 (as many as fit) to {MAX_COLUMNS}"})
    if len(fields["title"]) > MAX_TITLE:
        problems.append({"field": "title", "message": f"at most {MAX_TITLE} characters"})
    return problems


@transaction.atomic
def widget_theme_set(*, broker: Broker, title: str = "", primary_color: str = "", text_color: str = "",
                     background_color: str = "", font_family: str = WidgetFont.SYSTEM,
                     corner_radius: int = 12, columns: int = 0, default_sort: str = WidgetSort.PRICE_ASC,
                     success_url: str = "", cancel_url: str = "") -> WidgetTheme:
    """Save the broker's widget theme and return URLs (422 VALIDATION_ERROR naming each bad field)."""
    fields = {
        "title": " ".join(title.split()), "primary_color": primary_color.strip().lower(),
        "text_color": text_color.strip().lower(), "background_color": background_color.strip().lower(),
        "font_family": font_family, "corner_radius": corner_radius, "columns": columns,
        "default_sort": default_sort,
    }
    problems = _problems(fields)
    if problems:
        raise ValidationFailed("Some theme settings are invalid.", code="VALIDATION_ERROR", details=problems)
    fields["success_url"] = clean_return_url(success_url, field="success_url") or ""
    fields["cancel_url"] = clean_return_url(cancel_url, field="cancel_url") or ""
    theme, _ = WidgetTheme.objects.update_or_create(broker=broker, defaults=fields)
    activity_log(action="broker.widget_theme_updated", entity=broker, broker=broker, actor_type=ActorType.BROKER,
                 metadata={name: value for name, value in fields.items() if not name.endswith("_url")})
    return theme
