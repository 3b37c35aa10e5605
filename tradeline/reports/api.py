"""`GET /api/reports/revenue` (admin token): the revenue report as JSON or, with `format=csv`, CSV.
Thin: query in, one selector call, the same numbers as the dashboard's Reports page."""

import csv
import io

from django.http import HttpRequest, HttpResponse
from ninja import Router

from tradeline.brokers.auth import AdminTokenAuth
from tradeline.core.errors import ValidationFailed
from tradeline.core.money import cents_to_usd
from tradeline.reports.selectors import FIGURES, MONEY_FIGURES, report_period, revenue_report

router = Router()


def with_usd(figures: dict) -> dict:
    """Money figures in cents plus `<name>_usd` strings beside them (the API's convention)."""
    out = dict(figures)
    for name in MONEY_FIGURES:
        if name in figures:
            out[f"{name}_usd"] = cents_to_usd(figures[name])
    return out


def report_json(report: dict) -> dict:
    return {
        **{key: report[key] for key in ("start", "end", "group_by")},
        "rows": [with_usd({k: v for k, v in row.items() if k != "day"}) for row in report["rows"]],
        "totals": with_usd(report["totals"]),
        "previous": with_usd(report["previous"]),
        "growth_percent": {name: (str(value) if value is not None else None) for name, value in report["growth"].items()},
        "top_brokers": [with_usd(row) for row in report["top_brokers"]],
    }


def _cell(text: str) -> str:
    """A broker name as a CSV cell that a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def report_csv(report: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["group", *[f"{n}_usd" if n in MONEY_FIGURES else n for n in FIGURES]])
    for row in [*report["rows"], {"label": "TOTAL", **report["totals"]}]:
        writer.writerow([_cell(row["label"]), *[cents_to_usd(row[n]) if n in MONEY_FIGURES else row[n] for n in FIGURES]])
    return buffer.getvalue()


@router.get("/revenue", auth=[AdminTokenAuth()],
            summary="Revenue of orders paid in a UTC date range, by day/week/month/broker, with growth (JSON or CSV)",
            openapi_extra={"responses": {200: {"description": "The report: JSON, or CSV with ?format=csv", "content": {
                "application/json": {"schema": {"type": "object", "additionalProperties": True}},
                "text/csv": {"schema": {"type": "string"}},
            }}}})
def revenue(request: HttpRequest, start: str | None = None, end: str | None = None, group_by: str = "day",
            format: str = "json"):
    if format not in ("json", "csv"):
        raise ValidationFailed("format must be json or csv.", code="INVALID_REPORT_QUERY",
                               details=[{"field": "format", "message": "json or csv", "type": "invalid"}])
    report = revenue_report(period=report_period(start=start, end=end), group_by=group_by)
    if format == "csv":
        response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="revenue-{report["start"]}-{report["end"]}-{group_by}.csv"')
        return response
    return report_json(report)
