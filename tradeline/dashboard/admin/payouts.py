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
from tradeline.core.text import attachment_header
from tradeline.dashboard.admin_base import (
    BrokerFilter,
    ObjectActionsMixin,
    ReadOnlyAdmin,
    back_to,
    can_write,
    error_text,
    run_service,
    status_column,
)
from tradeline.dashboard.forms import MarkPaidForm, PayoutRunForm, ReasonForm
from tradeline.core.money import usd_to_cents
from tradeline.payouts.models import (
    CommissionAdjustment,
    CommissionRecord,
    ConnectedAccount,
    Payout,
    PayoutStatus,
    PayoutTransfer,
)
from tradeline.payouts.selectors import PAGE_ORDER_LINES, payout_report, payout_report_csv
from tradeline.payouts.services import (
    payout_cancel,
    payout_mark_paid,
    payout_run_month,
    payout_send,
    transfer_reverse,
)
from tradeline.payouts.statements import tax_year_csv

PAYOUT_ACTIONS = ("mark-paid", "cancel", "send")
SEND_TEXT = {"sent": "Sent with Stripe: transfer {tid}; the payout is COMPLETED.",
             "already_sent": "Already sent with Stripe (transfer {tid}).",
             "declined": "Stripe declined the transfer; the payout is FAILED and its commissions carry over. {msg}"}
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
    list_filter = ("status", "period_start", BrokerFilter)
    search_fields = ("broker__name", "broker__business_name", "transaction_id")
    list_select_related = ("broker",)
    # By the broker's id within a month (the payout_list index), not its name: no sort of every payout.
    ordering = ("-period_start", "broker_id")
    show_full_result_count = False
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
            path("tax-export/", wrap(self.tax_export_view), name="payouts_payout_tax_export"),
            path("reverse/<uuid:broker_id>/", wrap(self.reverse_view), name="payouts_payout_reverse"),
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
            "payout": payout, "report": payout_report(payout=payout, order_limit=PAGE_ORDER_LINES),
            "paid_form": bound.get("mark-paid") or MarkPaidForm(),
            "cancel_form": ReasonForm(),
            "transfer": PayoutTransfer.objects.filter(payout=payout).first(),
            "connect_account": ConnectedAccount.objects.filter(broker_id=payout.broker_id).first(),
        }
        return self.detail_response(request, payout, "admin/payouts/payout/detail.html",
                                    title=f"Payout {payout.broker} {payout.period_start:%Y-%m}",
                                    extra_context=extra_context, **context)

    def csv_view(self, request, object_id):
        payout = self.get_object(request, unquote(object_id))
        if payout is None:
            raise Http404("Payout not found")
        response = HttpResponse(payout_report_csv(payout=payout), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = attachment_header("payout", f"{payout.period_start:%Y-%m}",
                                                            payout.broker.name, ext="csv")
        return response

    def perform_action(self, request, obj, action):
        return _payout_action(self, request, obj, action)

    def tax_export_view(self, request):
        """The year-end CSV (1099-NEC input): brokers paid the threshold or more in ?year= (UTC)."""
        if not can_write(request):
            messages.error(request, "Your role may not export tax data.")
            return back_to(reverse("admin:payouts_payout_changelist"))
        try:
            year = int(request.GET.get("year", ""))
            text = tax_year_csv(year=year)
        except (ValueError, ApplicationError):
            messages.error(request, "Give a calendar year, e.g. ?year=2026.")
            return back_to(reverse("admin:payouts_payout_changelist"))
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = attachment_header("tax-year", year, ext="csv")
        return response

    def reverse_view(self, request, broker_id):
        """Take part of a deactivated broker's last transfer back (POST amount_usd)."""
        url = reverse("admin:brokers_broker_change", args=[broker_id])
        if request.method != "POST":
            return back_to(url)
        try:
            amount = usd_to_cents(request.POST.get("amount_usd", "").strip().lstrip("$"))
        except (ValueError, ArithmeticError):
            messages.error(request, "Enter an amount in dollars, e.g. 120.00.")
            return back_to(url)
        run_service(request, lambda: transfer_reverse(broker_id=broker_id, amount=amount, actor_user=request.user),
                    lambda r: f"{format_usd(r.amount)} taken back from transfer {r.transfer.stripe_transfer_id}.")
        return back_to(url)


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
    elif action == "send":
        run_service(request, lambda: payout_send(payout_id=payout.pk, actor_user=request.user),
                    lambda r: SEND_TEXT[r.outcome].format(tid=r.payout.transaction_id, msg=r.message))
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
    list_filter = ("status", BrokerFilter)
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
