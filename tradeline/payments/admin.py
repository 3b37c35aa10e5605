from django.contrib import admin

from tradeline.core.admin_utils import MoneyReadOnlyAdmin
from tradeline.payments.models import Refund, WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "source", "event_type", "event_id", "status", "attempts", "order")
    list_filter = ("source", "status", "event_type")
    search_fields = ("event_id",)
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]


@admin.register(Refund)
class RefundAdmin(MoneyReadOnlyAdmin):
    money_fields = ("amount",)
    list_display = ("created_at", "order", "amount_usd", "status", "stripe_refund_id", "requested_by")
    list_filter = ("status",)
