from django.contrib import admin

from tradeline.core.admin_utils import MoneyReadOnlyAdmin
from tradeline.orders.models import Order, OrderItem

ORDER_MONEY = ("subtotal_base", "supplier_cost", "platform_gross", "platform_net_revenue", "broker_revenue_share",
               "broker_markup", "total_charged", "amount_paid", "amount_refunded")
ITEM_MONEY = ("base_price", "platform_gross", "revenue_share", "markup", "customer_price", "total_base",
              "total_platform_gross", "total_revenue_share", "total_markup", "total_customer_price")


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    fields = ("card_id", "bank_name", "quantity", "customer_price", "total_customer_price")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(MoneyReadOnlyAdmin):
    money_fields = ORDER_MONEY
    list_display = ("order_number", "broker", "customer_email", "status", "payment_status", "fulfillment_status",
                    "total_charged_usd", "created_at")
    list_filter = ("status", "payment_status", "fulfillment_status", "dispute_status", "broker")
    search_fields = ("order_number", "customer_email", "broker__name", "broker__business_name")
    inlines = [OrderItemInline]


@admin.register(OrderItem)
class OrderItemAdmin(MoneyReadOnlyAdmin):
    money_fields = ITEM_MONEY
    list_display = ("order", "card_id", "bank_name", "quantity", "customer_price_usd")
    search_fields = ("order__order_number", "card_id")
