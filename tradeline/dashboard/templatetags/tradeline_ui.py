"""Template helpers shared by the admin dashboard and the broker portal.

Display only: cents become dollar strings through tradeline.core.money, charts scale the values
the selectors computed. Nothing here computes money.
"""

from django import template
from django.utils.html import format_html, format_html_join

from tradeline.core.money import format_usd

register = template.Library()


@register.filter
def usd(cents) -> str:
    """12345 -> "$123.45"; None/"" -> "—"."""
    if cents is None or cents == "":
        return "—"
    return format_usd(int(cents))


@register.filter
def percent(value) -> str:
    return "—" if value is None else f"{value}%"


@register.filter
def label(code) -> str:
    """"DISPUTE_LOST" -> "Dispute lost"."""
    text = str(code or "").replace("_", " ").strip().lower()
    return text[:1].upper() + text[1:]


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


STATUS_TONES = {
    "COMPLETED": "ok", "SUCCEEDED": "ok", "PAID": "ok", "ACTIVE": "ok", "PROCESSED": "ok", "APPLIED": "ok",
    "PROCESSING": "info", "QUEUED": "info", "PAYABLE": "info", "IN_PAYOUT": "info",
    "PENDING": "wait", "NOT_STARTED": "wait", "RECEIVED": "wait", "OPEN": "wait",
    "ON_HOLD": "warn", "HELD": "warn", "PARTIALLY_REFUNDED": "warn", "NEEDS_REVIEW": "warn", "SUSPENDED": "warn",
    "FAILED": "bad", "CANCELLED": "mute", "REFUNDED": "mute", "VOID": "mute", "INACTIVE": "mute", "IGNORED": "mute",
    "LOST": "bad", "WON": "ok",
}


@register.simple_tag
def status_badge(value) -> str:
    text = str(value or "—")
    return format_html('<span class="tl-badge tl-badge-{}">{}</span>', STATUS_TONES.get(text, "mute"),
                       text.replace("_", " ").lower())


@register.simple_tag
def bar_chart(series, value_key: str = "sales", money: bool = True, height: int = 180, label: str = "Daily sales"):
    """An inline SVG bar chart of `series` (rows with "day" and `value_key`), oldest first. No scripts, no CDN."""
    rows = list(series or [])
    if not rows or not any(int(row[value_key]) for row in rows):
        return format_html('<p class="tl-muted tl-chart-empty">{}</p>', "Nothing in this period yet.")
    width, left, bottom, top = 720, 64, 26, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max((int(row[value_key]) for row in rows), default=0)
    ceiling = _nice_ceiling(peak)
    slot = plot_w / len(rows)
    bar_w = max(2.0, slot * 0.7)
    grid = []
    for step in range(5):
        value = ceiling * step // 4
        y = top + plot_h - plot_h * step / 4
        text = (format_usd(value).removesuffix(".00") if money else str(value))
        grid.append((f"{y:.1f}", f"{left}", f"{width - 8}", f"{left - 6}", f"{y + 4:.1f}", text))
    bars = []
    for index, row in enumerate(rows):
        value = int(row[value_key])
        h = 0 if not ceiling else plot_h * value / ceiling
        x = left + index * slot + (slot - bar_w) / 2
        shown = format_usd(value) if money else str(value)
        bars.append((f"{x:.1f}", f"{top + plot_h - h:.1f}", f"{bar_w:.1f}", f"{max(h, 0):.1f}",
                     f"{row['day']:%b %d}: {shown}"))
    ticks = []
    for index in range(0, len(rows), max(1, len(rows) // 6)):
        x = left + index * slot + slot / 2
        ticks.append((f"{x:.1f}", f"{height - 8}", f"{rows[index]['day']:%b %d}"))
    return format_html(
        '<svg class="tl-chart" viewBox="0 0 {w} {h}" role="img" aria-label="{label}">'
        "{grid}{bars}{ticks}</svg>",
        w=width, h=height, label=label,
        grid=format_html_join(
            "", '<line x1="{1}" x2="{2}" y1="{0}" y2="{0}" class="tl-grid"/>'
            '<text x="{3}" y="{4}" text-anchor="end" class="tl-axis">{5}</text>', grid),
        bars=format_html_join(
            "", '<rect x="{}" y="{}" width="{}" height="{}" rx="2" class="tl-bar"><title>{}</title></rect>', bars),
        ticks=format_html_join("", '<text x="{}" y="{}" text-anchor="middle" class="tl-axis">{}</text>', ticks),
    )


def _nice_ceiling(value: int) -> int:
    """A round axis maximum at or above `value` (1, 2, 4, 5 or 8 × 10^n)."""
    if value <= 0:
        return 4
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for factor in (1, 2, 4, 5, 8, 10):
        if factor * magnitude >= value:
            return max(4, factor * magnitude)
    return 10 * magnitude
