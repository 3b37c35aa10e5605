"""Payouts in the admin: run a month (preview first, then confirm), mark paid with the transfer's
transaction id, cancel, and the report as a page and as CSV. Every change goes through
payouts.services; every figure comes from the payouts selectors."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from tradeline.core.errors import ApplicationError
from tradeline.core.money import format_usd
from tradeline.dashboard.admin_base import (
    ObjectActionsMixin,
    ReadOnlyAdmin,
    back_to,
    can_write,
    error_text,
    run_service,
    status_column,
)
from tradeline.dashboard.forms import MarkPaidForm, PayoutRunForm, ReasonForm
from tradeline.payouts.models import CommissionAdjustment, CommissionRecord, Payout, PayoutStatus
from tradeline.payouts.selectors import payout_report, payout_report_csv
from tradeline.payouts.services import payout_cancel, payout_mark_paid, payout_run_month

PAYOUT_ACTIONS = ("mark-paid", "cancel")
OUTCOME_TEXT = {
    "created": "a payout would be created", "exists": "already has a payout for this month",
    "below_minimum": "below the payout minimum: carries over", "nothing": "nothing to pay",
}


@admin.register(Payout)
class PayoutAdmin(ObjectActionsMixin, ReadOnlyAdmin):
    object_actions = PAYOUT_ACTIONS
    money_fields = ('total_revenue_share', 'total_markup', 'total_adjustments', 'total_amount')
    list_display = ("broker", "period_col", "status_col", "total_col", "commission_count", "adjustment_count",
                    "transaction_id", "processed_at")
    list_filter = ("status", "period_start", "broker")
    search_fields = ("broker__name", "broker__business_name", "transaction_id")
    list_select_related = ("broker",)
    change_list_template = "admin/payouts/payout/change_list.html"

    @admin.display(description="period", ordering="period_start")
    def period_col(self, obj):
        return obj.period_start.strftime("%Y-%m")

    status_col = status_column()

    @admin.display(description="amount", ordering="total_amount")
    def total_col(self, obj):
        return format_usd(obj.total_amount)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("run/", wrap(self.run_view), name="payouts_payout_run"),
            path("<path:object_id>/report.csv", wrap(self.csv_view), name="payouts_payout_csv"),
        ] + self.action_urlpatterns() + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"can_write": can_write(request), **(extra_context or {})})

    # --- run a month ------------------------------------------------------------------------------

    def run_view(self, request):
        """GET: the form. POST step=preview: dry run. POST step=confirm: create the payouts."""
        if not can_write(request):
            messages.error(request, "Your role may only read; ask an administrator to run payouts.")
            return back_to(reverse("admin:payouts_payout_changelist"))
        form = PayoutRunForm(request.POST or None)
        preview = None
        status = 200
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            broker_id = data["broker"].pk if data["broker"] else None
            confirm = request.POST.get("step") == "confirm"
            try:
                results = payout_run_month(year=data["year"], month=data["month"], broker_id=broker_id,
                                           dry_run=not confirm, actor_user=request.user)
            except ApplicationError as exc:
                messages.error(request, error_text(exc))
                status = 400
            else:
                if confirm:
                    created = [r for r in results if r.outcome == "created"]
                    messages.success(request, f"{data['year']}-{data['month']:02d}: {len(created)} payout"
                                              f"{'s' if len(created) != 1 else ''} created"
                                              f" ({len(results) - len(created)} broker(s) skipped).")
                    return back_to(reverse("admin:payouts_payout_changelist")
                                   + f"?status__exact={PayoutStatus.PENDING}")
                preview = [{**r.as_dict(), "outcome_text": OUTCOME_TEXT.get(r.outcome, r.outcome)} for r in results]
        elif request.method == "POST":
            status = 400
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": "Run monthly payouts",
                   "form": form, "preview": preview,
                   "would_create": sum(1 for row in preview or [] if row["outcome"] == "created")}
        return TemplateResponse(request, "admin/payouts/payout/run.html", context, status=status)

    # --- one payout -------------------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        payout = self.get_object(request, unquote(object_id))
        if payout is None:
            raise Http404("Payout not found")
        bound = getattr(request, "_tl_forms", {})
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": payout,
            "title": f"Payout {payout.broker} {payout.period_start:%Y-%m}",
            "payout": payout, "report": payout_report(payout=payout), "can_write": can_write(request),
            "paid_form": bound.get("mark-paid") or MarkPaidForm(),
            "cancel_form": ReasonForm(),
            "action_urls": self.action_urls(payout),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/payouts/payout/detail.html", context)

    def csv_view(self, request, object_id):
        payout = self.get_object(request, unquote(object_id))
        if payout is None:
            raise Http404("Payout not found")
        response = HttpResponse(payout_report_csv(payout=payout), content_type="text/csv; charset=utf-8")
        name = f"payout-{payout.period_start:%Y-%m}-{payout.broker.name}".replace(" ", "-").lower()
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response

    def perform_action(self, request, obj, action):
        return _payout_action(self, request, obj, action)


def _payout_action(model_admin: PayoutAdmin, request, payout: Payout, action: str):
    url = model_admin.change_url(payout)
    if action == "mark-paid":
        form = MarkPaidForm(request.POST)
        if not form.is_valid():
            return model_admin.rerender_invalid(request, payout, "mark-paid", form)
        run_service(request, lambda: payout_mark_paid(payout_id=payout.pk,
                                                      transaction_id=form.cleaned_data["transaction_id"],
                                                      notes=form.cleaned_data["notes"], actor_user=request.user),
                    lambda p: f"Payout of {format_usd(p.total_amount)} to {p.broker} marked paid.")
    else:
        form = ReasonForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        run_service(request, lambda: payout_cancel(payout_id=payout.pk, reason=reason, actor_user=request.user),
                    "Payout cancelled; its commissions carry over to the next payout.")
    return back_to(url)


@admin.register(CommissionRecord)
class CommissionRecordAdmin(ReadOnlyAdmin):
    money_fields = (
        'original_revenue_share', 'original_markup', 'revenue_share_amount', 'markup_amount',
        'total_commission',
    )
    list_display = ("order", "broker", "status_col", "total_col", "order_paid_at", "payout")
    list_filter = ("status", "broker")
    search_fields = ("order__order_number", "broker__name")
    list_select_related = ("order", "broker", "payout")

    status_col = status_column()

    @admin.display(description="commission", ordering="total_commission")
    def total_col(self, obj):
        return format_usd(obj.total_commission)


@admin.register(CommissionAdjustment)
class CommissionAdjustmentAdmin(ReadOnlyAdmin):
    money_fields = ('revenue_share_amount', 'markup_amount', 'amount')
    list_display = ("created_at", "broker", "order", "reason", "amount_col", "status", "payout")
    list_filter = ("reason", "status")
    list_select_related = ("order", "broker", "payout")

    @admin.display(description="amount", ordering="amount")
    def amount_col(self, obj):
        return format_usd(obj.amount)
