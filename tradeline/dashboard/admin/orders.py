"""Orders in the admin: searchable list, a detail page with the commission breakdown and history,
and the actions an admin takes on an order — each one a form that calls one service."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404
from django.utils.html import format_html

from tradeline.core.money import format_usd
from tradeline.core.pagination import EstimatedCountPaginator
from tradeline.dashboard.admin_base import (
    BrokerFilter,
    ObjectActionsMixin,
    ReadOnlyAdmin,
    back_to,
    run_service,
    status_column,
)
from tradeline.dashboard.admin.evidence import EVIDENCE_ACTIONS, evidence_action, evidence_context
from tradeline.dashboard.forms import ManualPaymentForm, ReasonForm, RefundForm
from tradeline.dashboard.selectors import order_history, order_money_records
from tradeline.fulfillment.dispatch import fulfillment_retry
from tradeline.orders.list_selectors import order_search_filter
from tradeline.orders.models import FulfillmentStatus, Order, OrderItem, OrderStatus
from tradeline.orders.selectors import order_detail
from tradeline.payments.selectors import excess_payments_unrefunded
from tradeline.payments.services import manual_payment_record, order_refund_refusal, payment_link_create, refund_create
from tradeline.payments.services.checkout import checkout_cancel

ACTIONS = ("manual-payment", "payment-link", "refund", "retry-fulfillment", "cancel", *EVIDENCE_ACTIONS)


@admin.register(Order)
class OrderAdmin(ObjectActionsMixin, ReadOnlyAdmin):
    object_actions = ACTIONS
    money_fields = (
        'subtotal_base', 'supplier_cost', 'platform_gross', 'platform_net_revenue', 'broker_revenue_share',
        'broker_markup', 'total_charged', 'amount_paid', 'amount_refunded',
    )
    list_display = ("order_number", "broker", "customer_email", "status_col", "payment_col", "fulfillment_col",
                    "total_col", "refunded_col", "created_col")
    list_filter = ("status", "payment_status", "fulfillment_status", "dispute_status", "payments__method", BrokerFilter,
                   "created_at")
    search_fields = ("order_number", "customer_email", "broker__name", "broker__business_name", "broker__email")
    list_select_related = ("broker",)
    list_per_page = 50
    # A million orders: no count of the whole table, an estimated count beyond 10,000 matches.
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    status_col = status_column()
    payment_col = status_column("payment_status", "payment")
    fulfillment_col = status_column("fulfillment_status", "fulfillment")

    @admin.display(description="total", ordering="total_charged")
    def total_col(self, obj):
        return format_html('<span class="tl-num">{}</span>', format_usd(obj.total_charged))

    @admin.display(description="created", ordering="created_at")  # UTC, like every date of the admin
    def created_col(self, obj):
        return f"{obj.created_at:%Y-%m-%d %H:%M}"

    @admin.display(description="refunded", ordering="amount_refunded")
    def refunded_col(self, obj):
        return format_usd(obj.amount_refunded) if obj.amount_refunded else "—"

    def get_search_results(self, request, queryset, search_term):
        """Prefix search on the order number, exact customer email, broker by name (all indexed)."""
        return queryset.filter(order_search_filter(search_term)), False

    def get_urls(self):
        return self.action_urlpatterns() + super().get_urls()

    # --- detail page ----------------------------------------------------------------------------

    def _available_actions(self, order: Order) -> dict[str, bool]:
        paid_like = order.status in (OrderStatus.PROCESSING, OrderStatus.COMPLETED, OrderStatus.ON_HOLD)
        return {
            "manual_payment": order.status == OrderStatus.PENDING,
            "payment_link": order.status == OrderStatus.PENDING
            and not order.payments.filter(stripe_payment_link_id__isnull=False).exists(),
            "cancel": order.status == OrderStatus.PENDING,
            "refund": paid_like and order_refund_refusal(order) is None,  # e.g. not after a lost dispute
            "retry_fulfillment": order.status == OrderStatus.PROCESSING
            and order.fulfillment_status == FulfillmentStatus.FAILED,
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404("Order not found")
        forms = getattr(request, "_tl_forms", {})
        context = {
            "subtitle": None,
            "order": order,
            "detail": order_detail(order=order, internal=True),
            "history": order_history(order=order),
            **evidence_context(order),
            **order_money_records(order=order),
            "excess_payments": list(excess_payments_unrefunded(order=order)),
            "available": self._available_actions(order),
            "manual_form": forms.get("manual-payment") or ManualPaymentForm(),
            "refund_form": forms.get("refund") or RefundForm(),
            "cancel_form": forms.get("cancel") or ReasonForm(),
            "has_view_permission": True,
        }
        return self.detail_response(request, order, "admin/orders/order/detail.html",
                                    title=f"Order {order.order_number}", extra_context=extra_context, **context)

    def perform_action(self, request, obj, action):
        return _order_action(self, request, obj, action)


def _order_action(model_admin: OrderAdmin, request, order: Order, action: str):
    detail_url = model_admin.change_url(order)
    user = request.user

    if action == "manual-payment":
        form = ManualPaymentForm(request.POST)
        if not form.is_valid():
            return model_admin.rerender_invalid(request, order, action, form)

        run_service(request, lambda: manual_payment_record(order_id=order.pk, method=form.cleaned_data["method"],
                                                           reference=form.cleaned_data["reference"], admin=user),
                    lambda o: f"Payment recorded: order {o.order_number} is {o.status.lower()}.")
    elif action == "payment-link":
        run_service(request, lambda: payment_link_create(order_id=order.pk, admin=user),
                    lambda p: f"Payment link created: {p.stripe_payment_link_url}")
    elif action == "refund":
        form = RefundForm(request.POST)
        if not form.is_valid():
            return model_admin.rerender_invalid(request, order, action, form)

        run_service(request, lambda: refund_create(order_id=order.pk, amount=form.cleaned_data["amount"], admin=user,
                                                   reason=form.cleaned_data["reason"]),
                    lambda r: f"Refunded {format_usd(r.amount)}; {format_usd(r.order.amount_refunded)} "
                              f"of {format_usd(r.order.amount_paid)} refunded in total.")
    elif action == "retry-fulfillment":
        run_service(request, lambda: fulfillment_retry(order_id=order.pk, admin=user),
                    "Fulfillment queued again; the order completes when the supplier accepts it.")
    elif action == "cancel":
        form = ReasonForm(request.POST)
        if not form.is_valid():
            return model_admin.rerender_invalid(request, order, action, form)

        run_service(request, lambda: checkout_cancel(order_id=order.pk, actor_user=user,
                                                     reason=form.cleaned_data["reason"]),
                    lambda o: f"Order {o.order_number} cancelled.")
    elif action in EVIDENCE_ACTIONS:
        evidence_action(request, order, action)
    return back_to(detail_url)


@admin.register(OrderItem)
class OrderItemAdmin(ReadOnlyAdmin):
    money_fields = (
        'base_price', 'platform_gross', 'revenue_share', 'markup', 'customer_price', 'total_base',
        'total_platform_gross', 'total_revenue_share', 'total_markup', 'total_customer_price',
    )
    list_display = ("order", "card_id", "bank_name", "quantity", "unit_col", "total_col")
    search_fields = ("order__order_number", "card_id", "bank_name")
    list_select_related = ("order",)

    def has_module_permission(self, request):
        return False  # reached through the order page

    @admin.display(description="unit price", ordering="customer_price")
    def unit_col(self, obj):
        return format_usd(obj.customer_price)

    @admin.display(description="total", ordering="total_customer_price")
    def total_col(self, obj):
        return format_usd(obj.total_customer_price)
