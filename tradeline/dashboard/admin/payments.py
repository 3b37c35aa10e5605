from django.contrib import admin

from tradeline.core.money import format_usd
from tradeline.dashboard.admin_base import ReadOnlyAdmin
from tradeline.payments.models import Refund, WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "source", "event_type", "event_id", "status", "attempts", "order")
    list_filter = ("source", "status", "event_type")
    search_fields = ("event_id", "order__order_number")
    list_select_related = ("order",)
    show_full_result_count = False


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    money_fields = ('amount',)
    list_display = ("created_at", "order", "amount_col", "status", "stripe_refund_id", "requested_by")
    list_filter = ("status",)
    search_fields = ("order__order_number", "stripe_refund_id")
    list_select_related = ("order", "requested_by")

    @admin.display(description="amount", ordering="amount")
    def amount_col(self, obj):
        return format_usd(obj.amount)
