from django.contrib import admin

from tradeline.core.money import format_usd
from tradeline.dashboard.admin_base import ReadOnlyAdmin
from tradeline.fulfillment.models import SupplierOrder
from tradeline.payments.models import Payment, Refund, WebhookEvent


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


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    """Every attempt to take money (docs/domain.md "Payment"); EXCESS rows are money to give back."""

    list_display = ("created_at", "order", "method", "role", "status", "amount_col", "refunded_col",
                    "dispute_status", "reference")
    list_filter = ("method", "role", "status", "dispute_status")
    search_fields = ("order__order_number", "stripe_session_id", "stripe_payment_intent", "stripe_charge_id",
                     "reference")
    list_select_related = ("order",)
    show_full_result_count = False

    @admin.display(description="amount", ordering="amount")
    def amount_col(self, obj):
        return format_usd(obj.amount)

    @admin.display(description="refunded", ordering="amount_refunded")
    def refunded_col(self, obj):
        return format_usd(obj.amount_refunded) if obj.amount_refunded else "—"


@admin.register(SupplierOrder)
class SupplierOrderAdmin(ReadOnlyAdmin):
    """The supplier side of each paid order (docs/domain.md "Supplier order")."""

    list_display = ("created_at", "order", "status", "attempts", "supplier_order_id", "supplier_status",
                    "next_attempt_at", "last_error")
    list_filter = ("status",)
    search_fields = ("order__order_number", "supplier_order_id")
    list_select_related = ("order",)
    show_full_result_count = False
