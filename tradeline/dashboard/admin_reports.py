"""Dashboard page "Reports" (/admin/reports/): the revenue report of tradeline/reports for a UTC
date range, with charts and a table under each, and the same numbers as CSV."""

from django.contrib import admin
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from tradeline.core.errors import ValidationFailed
from tradeline.reports.api import report_csv
from tradeline.reports.selectors import GROUPS, report_period, revenue_report

GROWTH_LABELS = {"orders": "Orders", "sales": "Sales", "platform_net_revenue": "Platform net revenue",
                 "broker_commissions": "Broker commissions", "average_order_value": "Average order value"}


def _report(request):
    group_by = request.GET.get("group_by") or "day"
    period = report_period(start=request.GET.get("start") or None, end=request.GET.get("end") or None)
    return revenue_report(period=period, group_by=group_by)


def reports_view(request):
    context = {**admin.site.each_context(request), "title": "Reports", "groups": GROUPS,
               "query": {"start": request.GET.get("start", ""), "end": request.GET.get("end", ""),
                         "group_by": request.GET.get("group_by") or "day"}}
    try:
        report = _report(request)
    except ValidationFailed as exc:
        return render(request, "admin/reports.html", {**context, "error": exc.message}, status=400)
    top_peak = max((row["sales"] for row in report["top_brokers"]), default=0) or 1
    context.update(
        report=report,
        growth=[(GROWTH_LABELS[name], name, report["totals"][name], report["previous"][name], value)
                for name, value in report["growth"].items()],
        top_brokers=[{**row, "width": round(row["sales"] * 100 / top_peak, 1)} for row in report["top_brokers"]],
        broker_peak=max((row["sales"] for row in report["rows"]), default=0) or 1,
        csv_query=request.GET.urlencode(),
    )
    if report["group_by"] == "broker":
        context["broker_rows"] = [{**row, "width": round(row["sales"] * 100 / context["broker_peak"], 1)}
                                  for row in report["rows"]]
    return render(request, "admin/reports.html", context)


def reports_csv(request):
    try:
        report = _report(request)
    except ValidationFailed as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="revenue-{report["start"]}-{report["end"]}-{report["group_by"]}.csv"')
    return response


def install(site: admin.AdminSite) -> None:
    get_urls = site.get_urls

    def urls():
        return [path("reports/", site.admin_view(reports_view), name="reports"),
                path("reports/revenue.csv", site.admin_view(reports_csv), name="reports-csv"), *get_urls()]

    site.get_urls = urls
