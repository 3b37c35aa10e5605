from django.contrib import admin

from tradeline.core.admin_utils import MoneyReadOnlyAdmin
from tradeline.payouts.models import CommissionAdjustment, CommissionRecord, Payout


@admin.register(CommissionRecord)
class CommissionRecordAdmin(MoneyReadOnlyAdmin):
    money_fields = ("original_revenue_share", "original_markup", "revenue_share_amount", "markup_amount",
                    "total_commission")
    list_display = ("order", "broker", "status", "total_commission_usd", "order_paid_at", "payout")
    list_filter = ("status", "broker")
    search_fields = ("order__order_number",)


@admin.register(CommissionAdjustment)
class CommissionAdjustmentAdmin(MoneyReadOnlyAdmin):
    money_fields = ("revenue_share_amount", "markup_amount", "amount")
    list_display = ("created_at", "broker", "order", "reason", "amount_usd", "status", "payout")
    list_filter = ("reason", "status")


@admin.register(Payout)
class PayoutAdmin(MoneyReadOnlyAdmin):
    money_fields = ("total_revenue_share", "total_markup", "total_adjustments", "total_amount")
    list_display = ("broker", "period_start", "status", "total_amount_usd", "commission_count", "processed_at")
    list_filter = ("status",)
