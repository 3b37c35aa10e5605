"""The `data` of each event: what the broker already sees in its portal, nothing more (no phone,
address, payment ids or supplier details). Money in integer cents, as in the API."""



ORDER_FIELDS = ("order_number", "status", "currency", "total_charged", "amount_refunded", "broker_revenue_share",
                "broker_markup", "customer_email", "customer_name", "created_at", "paid_at")


def order_data(order) -> dict:
    # The paid path loads only the columns it needs: read the others in one query, not one each.
    deferred = order.get_deferred_fields() & set(ORDER_FIELDS)
    if deferred:
        order.refresh_from_db(fields=sorted(deferred))
    return {
        "object": "order",
        "id": str(order.pk),
        "order_number": order.order_number,
        "status": order.status,
        "currency": order.currency,
        "total_charged": order.total_charged,
        "amount_refunded": order.amount_refunded,
        "broker_revenue_share": order.broker_revenue_share,
        "broker_markup": order.broker_markup,
        "broker_earnings": order.broker_revenue_share + order.broker_markup,
        "customer": {"email": order.customer_email, "name": order.customer_name},
        "created": _ts(order.created_at),
        "paid_at": _ts(order.paid_at),
    }


def commission_data(commission, *, clawback_total: int | None = None) -> dict:
    data = {
        "object": "commission",
        "id": str(commission.pk),
        "order_id": str(commission.order_id),
        "status": commission.status,
        "revenue_share_amount": commission.revenue_share_amount,
        "markup_amount": commission.markup_amount,
        "total_commission": commission.total_commission,
    }
    if clawback_total is not None:
        data["clawback_total"] = clawback_total
    return data


def payout_data(payout) -> dict:
    return {
        "object": "payout",
        "id": str(payout.pk),
        "status": payout.status,
        "period_start": _ts(payout.period_start),
        "period_end": _ts(payout.period_end),
        "total_amount": payout.total_amount,
        "commission_count": payout.commission_count,
        "transaction_id": payout.transaction_id,
        "processed_at": _ts(payout.processed_at),
    }


def _ts(value) -> int | None:
    return int(value.timestamp()) if value else None
