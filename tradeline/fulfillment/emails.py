"""Emails about fulfilled and unfulfillable orders (Django email; console backend in development).

Sent after the transaction that completed (or gave up on) the order commits. A mail failure is
logged (order id only, never an address) and never undoes the fulfillment.
"""

import logging

from django.conf import settings

from tradeline.core.mail import send_rendered_email
from tradeline.core.money import format_usd
from tradeline.evidence.services import customer_email_send
from tradeline.fulfillment.posting import PostingStage
from tradeline.orders.models import Order
from tradeline.orders.selectors import order_earnings

logger = logging.getLogger(__name__)


def _send(*, template: str, subject: str, recipients: list[str], context: dict, order: Order) -> bool:
    # SMTP trouble must not undo a completed order: core.mail logs it and returns False.
    return send_rendered_email(template=f"fulfillment/email/{template}", subject=subject, to=recipients,
                               context=context, about=f"order {order.pk}")


def _context(order: Order) -> dict:
    items = [
        {"bank_name": item.bank_name, "quantity": item.quantity, "credit_limit": format_usd(item.credit_limit),
         "date_opened": item.date_opened, "unit_price": format_usd(item.customer_price),
         "total": format_usd(item.total_customer_price)}
        for item in order.items.all()
    ]
    broker = order.broker
    return {
        "order": order,
        "items": items,
        "total": format_usd(order.total_charged),
        "seller": (broker.business_name or broker.name) if broker else "Tradeline Marketplace",
        "broker": broker,
        # From the commission ledger: what the broker earns now (after any refund already made).
        "broker_earnings": format_usd(order_earnings(order)["total"]) if broker else format_usd(0),
        "revenue_share": format_usd(order.broker_revenue_share),
        "markup": format_usd(order.broker_markup),
        "base_url": settings.PUBLIC_BASE_URL,
    }


def send_order_completed(*, order_id) -> None:
    """The customer's confirmation and, for a broker sale, the broker's sale notice."""
    order = Order.objects.select_related("broker").filter(pk=order_id).first()
    if order is None:
        return
    context = _context(order)
    # The customer's email is the "placed" stage email: logged, once per order, with the status link.
    customer_email_send(order=order, key=f"stage:{PostingStage.PLACED}", kind="placed",
                        subject=f"Your order {order.order_number} is confirmed",
                        template="fulfillment/email/order_confirmation", context=context)
    if order.broker is not None:
        _send(template="broker_sale_notice", subject=f"New sale: order {order.order_number}",
              recipients=[order.broker.email], context=context, order=order)


def send_fulfillment_failed(*, order_id) -> None:
    """Tell ADMIN_EMAILS that an order could not be placed at the supplier."""
    order = Order.objects.select_related("broker").filter(pk=order_id).first()
    if order is None:
        return
    if not settings.ADMIN_EMAILS:
        logger.warning("order %s could not be fulfilled and ADMIN_EMAILS is empty: nobody was emailed", order.pk)
        return
    _send(template="admin_fulfillment_failed", subject=f"Action needed: order {order.order_number} not fulfilled",
          recipients=list(settings.ADMIN_EMAILS), context=_context(order), order=order)


def send_supplier_problem(*, order_id, stage: str) -> bool:
    """Tell ADMIN_EMAILS that the supplier reports a placed order as cancelled, failed or refunded."""
    order = Order.objects.select_related("broker").filter(pk=order_id).first()
    if order is None:
        return False
    if not settings.ADMIN_EMAILS:
        logger.warning("order %s flagged (%s at the supplier) and ADMIN_EMAILS is empty", order.pk, stage)
        return False
    return _send(template="admin_supplier_problem",
                 subject=f"Action needed: order {order.order_number} {stage.lower()} at the supplier",
                 recipients=list(settings.ADMIN_EMAILS), context={**_context(order), "stage": stage.lower()},
                 order=order)
