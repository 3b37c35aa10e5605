"""The customer's "refund processed" email (template emails/refund_processed.*), after a refund
(admin or Stripe-reported) is recorded. Sent once per recorded increase of the refunded total."""

from tradeline.core.mail import send_templated_email
from tradeline.core.money import format_usd
from tradeline.orders.models import Order


def send_refund_processed(*, order_id, amount: int) -> bool:
    order = Order.objects.select_related("broker").filter(pk=order_id).first()
    if order is None:
        return False
    broker = order.broker
    return send_templated_email("refund_processed", to=[order.customer_email], context={
        "order": order, "amount": format_usd(amount), "refunded_total": format_usd(order.amount_refunded),
        "total": format_usd(order.amount_paid), "full": order.amount_refunded >= order.amount_paid,
        "seller": (broker.business_name or broker.name) if broker else "Tradeline Marketplace"})
