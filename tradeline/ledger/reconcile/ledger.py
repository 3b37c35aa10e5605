"""The database side of reconciliation: set-based queries that return only the rows that disagree.

"Paid" below means the order went through the paid transition: its payment is SUCCEEDED /
PARTIALLY_REFUNDED / REFUNDED and its fulfillment was started (the transition queues it). Money
recorded without the transition (amount mismatch, or paid after the order had ended) leaves the
order ON_HOLD with fulfillment NOT_STARTED: no commission is due for it until an admin acts.
"""

from collections.abc import Callable
from datetime import datetime

from django.db.models import BigIntegerField, Count, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, Round

from tradeline.analytics.models import BrokerDailyStats
from tradeline.core.money import clawback_cents
from tradeline.ledger.reconcile.records import check_money_kept, check_payment_summaries
from tradeline.orders.models import PAID_PAYMENT_STATES as PAID
from tradeline.orders.models import REFUNDABLE_PAYMENT_STATES
from tradeline.orders.models import UNPAID_PAYMENT_STATES as UNPAID
from tradeline.orders.models import DisputeStatus, FulfillmentStatus, Order, OrderItem, OrderStatus, PaymentStatus
from tradeline.payments.models import PaymentRole, Refund
from tradeline.payouts.models import (
    AdjustmentStatus,
    CommissionAdjustment,
    CommissionRecord,
    CommissionStatus,
    Payout,
    PayoutStatus,
)

LIVE_PAYOUT = (PayoutStatus.PENDING, PayoutStatus.COMPLETED)
CHUNK = 2_000
PROGRESS_EVERY = 50_000

Say = Callable[[str], None]


def _paid_transition(prefix: str = "") -> Q:
    return Q(**{f"{prefix}payment_status__in": PAID}) & ~Q(**{f"{prefix}fulfillment_status": FulfillmentStatus.NOT_STARTED})


def _orders(since: datetime | None):
    orders = Order.objects.order_by()
    return orders.filter(created_at__gte=since) if since else orders


def _commissions(since: datetime | None):
    commissions = CommissionRecord.objects.order_by()
    return commissions.filter(order__created_at__gte=since) if since else commissions


def _big(expression) -> Cast:
    return Cast(expression, BigIntegerField())


def _half_up_percent(amount: str, percent: str):
    """round_half_up(amount × percent / 100) in integer SQL arithmetic: percent has two decimals, so
    (amount × percent·100 + 5000) div 10000 is exact on every database."""
    hundredths = _big(Round(F(percent) * 100))
    return (F(amount) * hundredths + Value(5000)) / Value(10000)


def _stream(queryset, say: Say, label: str):
    for n, row in enumerate(queryset.iterator(chunk_size=CHUNK), 1):
        if n % PROGRESS_EVERY == 0:
            say(f"    {label}: {n:,} rows checked")
        yield row


# -- orders ---------------------------------------------------------------------------------------


def check_order_items(c, *, since, say: Say) -> None:
    sums = dict(
        n_items=Count("items"),
        i_total=Sum("items__total_customer_price", default=0),
        i_base=Sum("items__total_base", default=0),
        i_gross=Sum("items__total_platform_gross", default=0),
        i_share=Sum("items__total_revenue_share", default=0),
        i_markup=Sum("items__total_markup", default=0),
    )
    fields = (("total_charged", "i_total"), ("subtotal_base", "i_base"), ("platform_gross", "i_gross"),
              ("broker_revenue_share", "i_share"), ("broker_markup", "i_markup"))
    differs = Q(n_items=0)
    for mine, theirs in fields:
        differs |= ~Q(**{mine: F(theirs)})
    rows = (_orders(since).annotate(**sums).filter(differs)
            .values_list("order_number", "n_items", *[name for pair in fields for name in pair]))
    for number, n_items, *values in _stream(rows, say, "order items"):
        if n_items == 0:
            c.add("ORDER_NO_ITEMS", "order", number, "no items")
            continue
        wrong = [f"{mine} {values[2 * i]} != items {values[2 * i + 1]}"
                 for i, (mine, _) in enumerate(fields) if values[2 * i] != values[2 * i + 1]]
        c.add("ORDER_ITEMS_MISMATCH", "order", number, "; ".join(wrong))


def check_item_pricing(c, *, since, say: Say) -> None:
    items = OrderItem.objects.order_by()
    if since:
        items = items.filter(order__created_at__gte=since)
    rows = (
        items.annotate(
            want_gross=_half_up_percent("base_price", "order__platform_commission_percent"),
            want_share=_half_up_percent("base_price", "order__revenue_share_percent"),
        )
        .filter(~Q(platform_gross=F("want_gross")) | ~Q(revenue_share=F("want_share")))
        .values_list("order__order_number", "card_id", "base_price", "platform_gross", "want_gross", "revenue_share",
                     "want_share")
    )
    for number, card_id, base, gross, want_gross, share, want_share in _stream(rows, say, "item pricing"):
        c.add("ITEM_PRICING", "order", number,
              f"item {card_id} (P={base}): platform commission {gross} (expected {want_gross}), "
              f"revenue share {share} (expected {want_share})")


def check_order_money(c, *, since, say: Say) -> None:
    orders = _orders(since)
    direct = orders.filter(broker__isnull=True).filter(Q(broker_revenue_share__gt=0) | Q(broker_markup__gt=0))
    for number, share, markup in direct.values_list("order_number", "broker_revenue_share", "broker_markup"):
        c.add("DIRECT_SALE_EARNINGS", "order", number, f"no broker but share {share}, markup {markup}")

    split = F("supplier_cost") + F("platform_net_revenue") + F("broker_revenue_share") + F("broker_markup")
    rows = orders.filter(_paid_transition()).annotate(split=split).filter(~Q(amount_paid=F("split"))).values_list(
        "order_number", "amount_paid", "supplier_cost", "platform_net_revenue", "broker_revenue_share",
        "broker_markup", "split")
    for number, paid, supplier, net, share, markup, total in _stream(rows, say, "paid split"):
        c.add("PAID_SPLIT", "order", number,
              f"paid {paid} != supplier cost {supplier} + platform net {net} + broker earnings {share + markup} "
              f"(= {total})")

    rows = orders.filter(payment_status__in=UNPAID).filter(
        ~Q(amount_paid=0) | ~Q(amount_refunded=0) | Q(paid_at__isnull=False)
    ).values_list("order_number", "payment_status", "amount_paid", "amount_refunded")
    for number, status, paid, refunded in _stream(rows, say, "unpaid orders"):
        c.add("UNPAID_WITH_MONEY", "order", number, f"payment {status} but paid {paid}, refunded {refunded}")

    rows = orders.filter(payment_status__in=PAID).filter(Q(amount_paid__lte=0) | Q(paid_at__isnull=True)).values_list(
        "order_number", "payment_status", "amount_paid")
    for number, status, paid in rows:
        c.add("PAID_WITHOUT_MONEY", "order", number, f"payment {status} but paid {paid} (or no paid time)")

    rows = orders.filter(amount_refunded__gt=F("amount_paid")).values_list("order_number", "amount_refunded",
                                                                          "amount_paid")
    for number, refunded, paid in rows:
        c.add("REFUND_EXCEEDS_PAID", "order", number, f"refunded {refunded} > paid {paid}")

    wrong_state = (
        (Q(payment_status=PaymentStatus.REFUNDED) & (~Q(amount_refunded=F("amount_paid")) | ~Q(status=OrderStatus.REFUNDED)))
        | (Q(payment_status=PaymentStatus.PARTIALLY_REFUNDED)
           & (Q(amount_refunded__lte=0) | Q(amount_refunded__gte=F("amount_paid"))))
        | (Q(payment_status=PaymentStatus.SUCCEEDED) & ~Q(amount_refunded=0))
        | (Q(status=OrderStatus.REFUNDED) & ~Q(payment_status=PaymentStatus.REFUNDED))
    )
    rows = orders.filter(wrong_state).values_list("order_number", "status", "payment_status", "amount_paid",
                                                  "amount_refunded")
    for number, status, payment, paid, refunded in _stream(rows, say, "refund states"):
        c.add("REFUND_STATE", "order", number, f"order {status}, payment {payment}, paid {paid}, refunded {refunded}")

    # Refunds of the paying payment only (an excess payment's refund is checked by MONEY_KEPT).
    rows = (Refund.objects.order_by().filter(status=Refund.Status.SUCCEEDED, order__in=orders)
            .filter(Q(payment__isnull=True) | Q(payment__role=PaymentRole.PAYING))
            .values("order_id", "order__order_number", "order__amount_refunded")
            .annotate(ours=Sum("amount")).filter(ours__gt=F("order__amount_refunded"))
            .values_list("order__order_number", "ours", "order__amount_refunded"))
    for number, ours, refunded in rows:
        c.add("LOCAL_REFUNDS_EXCEED", "order", number, f"refunds recorded {ours} > order refunded total {refunded}")

    settled = REFUNDABLE_PAYMENT_STATES
    wrong_status = (
        (Q(status=OrderStatus.PENDING) & ~Q(payment_status=PaymentStatus.PENDING))
        | (Q(status__in=(OrderStatus.PROCESSING, OrderStatus.COMPLETED)) & ~Q(payment_status__in=settled))
        | (Q(status=OrderStatus.CANCELLED) & ~Q(payment_status=PaymentStatus.CANCELLED))
        | (Q(status=OrderStatus.FAILED) & ~Q(payment_status=PaymentStatus.FAILED))
        | (Q(status=OrderStatus.COMPLETED) & Q(supplier_order__supplier_order_id__isnull=True))
    )
    rows = orders.filter(wrong_status).values_list("order_number", "status", "payment_status",
                                                   "supplier_order__supplier_order_id")
    for number, status, payment, supplier_order in _stream(rows, say, "order states"):
        extra = ", no supplier order" if status == OrderStatus.COMPLETED and not supplier_order else ""
        c.add("ORDER_STATUS", "order", number, f"order {status} with payment {payment}{extra}")


# -- commissions ----------------------------------------------------------------------------------


def check_commission_presence(c, *, since, say: Say) -> None:
    has_commission = Exists(CommissionRecord.objects.filter(order_id=OuterRef("pk")))
    rows = (_orders(since).filter(_paid_transition(), broker__isnull=False).filter(~has_commission)
            .values_list("order_number", "payment_status"))
    for number, payment in _stream(rows, say, "missing commissions"):
        c.add("MISSING_COMMISSION", "order", number, f"paid (payment {payment}) but no commission")
    rows = (_commissions(since).filter(Q(order__broker__isnull=True) | ~_paid_transition("order__"))
            .values_list("order__order_number", "order__payment_status", "order__broker_id"))
    for number, payment, broker_id in _stream(rows, say, "unexpected commissions"):
        why = "direct sale" if broker_id is None else f"order not paid (payment {payment})"
        c.add("UNEXPECTED_COMMISSION", "order", number, f"commission exists: {why}")


def check_commission_origin(c, *, since, say: Say) -> None:
    differs = (~Q(broker_id=F("order__broker_id")) | ~Q(original_revenue_share=F("order__broker_revenue_share"))
               | ~Q(original_markup=F("order__broker_markup")) | ~Q(order_paid_at=F("order__paid_at")))
    rows = _commissions(since).filter(_paid_transition("order__"), order__broker__isnull=False).filter(differs).values_list(
        "order__order_number", "broker_id", "order__broker_id", "original_revenue_share",
        "order__broker_revenue_share", "original_markup", "order__broker_markup", "order_paid_at", "order__paid_at")
    for number, broker, order_broker, share, order_share, markup, order_markup, paid_at, order_paid_at in _stream(
            rows, say, "commission origins"):
        parts = []
        if broker != order_broker:
            parts.append(f"broker {broker} != order's broker {order_broker}")
        if share != order_share:
            parts.append(f"original share {share} != order's {order_share}")
        if markup != order_markup:
            parts.append(f"original markup {markup} != order's {order_markup}")
        if paid_at != order_paid_at:
            parts.append(f"paid at {paid_at} != order's {order_paid_at}")
        c.add("COMMISSION_ORDER_MISMATCH", "order", number, "; ".join(parts) or "differs from its order")


def check_commission_clawbacks(c, *, since, say: Say) -> None:
    """Clawed back so far = (original - current amounts) - Σ its adjustments; it must equal what the
    order's refunds (or a lost dispute) call for. Untouched commissions of unrefunded orders are
    filtered out in SQL; the rest is streamed."""
    adjustments = CommissionAdjustment.objects.filter(commission_id=OuterRef("pk")).order_by().values("commission_id")
    adj_share = Coalesce(Subquery(adjustments.annotate(s=Sum("revenue_share_amount")).values("s")), Value(0),
                         output_field=BigIntegerField())
    adj_markup = Coalesce(Subquery(adjustments.annotate(s=Sum("markup_amount")).values("s")), Value(0),
                          output_field=BigIntegerField())
    touched = (Q(order__amount_refunded__gt=0) | Q(order__dispute_status=DisputeStatus.LOST)
               | ~Q(revenue_share_amount=F("original_revenue_share")) | ~Q(markup_amount=F("original_markup"))
               | ~Q(adj_share=0) | ~Q(adj_markup=0))
    rows = _commissions(since).annotate(adj_share=adj_share, adj_markup=adj_markup).filter(touched).values_list(
        "order__order_number", "original_revenue_share", "original_markup", "revenue_share_amount", "markup_amount",
        "adj_share", "adj_markup", "order__amount_refunded", "order__total_charged", "order__dispute_status")
    for (number, o_share, o_markup, share, markup, a_share, a_markup, refunded, total,
         dispute) in _stream(rows, say, "commission clawbacks"):
        booked_share = o_share - share - a_share
        booked_markup = o_markup - markup - a_markup
        want = clawback_cents(earnings=o_share + o_markup, amount_refunded=refunded, total_charged=total,
                              dispute_lost=dispute == DisputeStatus.LOST)
        if booked_share + booked_markup != want or not (0 <= booked_share <= o_share and 0 <= booked_markup <= o_markup):
            c.add("COMMISSION_CLAWBACK", "order", number,
                  f"clawed back {booked_share + booked_markup} (share {booked_share}, markup {booked_markup}) but "
                  f"refunded {refunded} of {total}{' and dispute lost' if dispute == DisputeStatus.LOST else ''} "
                  f"calls for {want} of earnings {o_share + o_markup}")


def check_commission_status(c, *, since, say: Say) -> None:
    wrong = (
        (Q(status__in=(CommissionStatus.PAYABLE, CommissionStatus.HELD)) & Q(payout__isnull=False))
        | (Q(status=CommissionStatus.IN_PAYOUT) & (Q(payout__isnull=True) | ~Q(payout__status=PayoutStatus.PENDING)))
        | (Q(status=CommissionStatus.PAID) & (Q(payout__isnull=True) | ~Q(payout__status=PayoutStatus.COMPLETED)))
        | (Q(status=CommissionStatus.VOID) & (~Q(total_commission=0) | Q(payout__isnull=False)))
        | (Q(status=CommissionStatus.HELD) & ~Q(order__dispute_status=DisputeStatus.OPEN))
        | (Q(status=CommissionStatus.PAYABLE) & Q(order__dispute_status=DisputeStatus.OPEN))
    )
    rows = _commissions(since).filter(wrong).values_list("order__order_number", "status", "total_commission",
                                                         "payout__status", "order__dispute_status")
    for number, status, total, payout_status, dispute in _stream(rows, say, "commission states"):
        c.add("COMMISSION_STATUS", "order", number,
              f"commission {status} (total {total}) with payout {payout_status or 'none'}, dispute {dispute}")
    wrong = (
        (Q(status=AdjustmentStatus.OPEN) & Q(payout__isnull=False))
        | (Q(status=AdjustmentStatus.IN_PAYOUT) & (Q(payout__isnull=True) | ~Q(payout__status=PayoutStatus.PENDING)))
        | (Q(status=AdjustmentStatus.APPLIED) & (Q(payout__isnull=True) | ~Q(payout__status=PayoutStatus.COMPLETED)))
        | (Q(commission__isnull=False) & (~Q(broker_id=F("commission__broker_id"))
                                          | ~Q(order_id=F("commission__order_id"))))
    )
    rows = CommissionAdjustment.objects.order_by().filter(wrong).values_list("key", "status", "payout__status",
                                                                            "broker_id", "commission__broker_id")
    for key, status, payout_status, broker, commission_broker in rows:
        owner = f", broker {broker} but commission's {commission_broker}" if commission_broker and broker != commission_broker else ""
        c.add("ADJUSTMENT_STATUS", "adjustment", key, f"adjustment {status} with payout {payout_status or 'none'}{owner}")


# -- payouts and brokers --------------------------------------------------------------------------


def _lines_by_payout(model, payouts, **sums) -> dict:
    """{payout id: {"n": lines, **sums}} in one GROUP BY over the table (commission lines have no
    payout_id index on purpose, see CommissionRecord: one pass beats a lookup per payout)."""
    rows = (model.objects.order_by().filter(payout__in=payouts).values("payout_id")
            .annotate(n=Count("pk"), **{name: Sum(field) for name, field in sums.items()}))
    return {row.pop("payout_id"): row for row in rows}


def check_payouts(c, *, since, say: Say) -> None:
    payouts = Payout.objects.order_by()
    if since:
        payouts = payouts.filter(period_end__gt=since)
    commission_lines = _lines_by_payout(CommissionRecord, payouts, share="revenue_share_amount",
                                        markup="markup_amount")
    adjustment_lines = _lines_by_payout(CommissionAdjustment, payouts, amount="amount")
    fields = ("total_revenue_share", "total_markup", "commission_count", "total_adjustments", "adjustment_count")
    rows = payouts.values_list("pk", "status", "total_amount", *fields)
    for pk, status, total, *values in _stream(rows, say, "payouts"):
        comm = commission_lines.get(pk, {"n": 0, "share": 0, "markup": 0})
        adj = adjustment_lines.get(pk, {"n": 0, "amount": 0})
        if status not in LIVE_PAYOUT:
            if comm["n"] or adj["n"]:
                c.add("PAYOUT_DEAD_LINES", "payout", pk, f"{status} payout still holds lines")
            continue
        lines = (comm["share"], comm["markup"], comm["n"], adj["amount"], adj["n"])
        wrong = [f"{name} {mine} != lines {theirs}" for name, mine, theirs in zip(fields, values, lines)
                 if mine != theirs]
        if total != values[0] + values[1] + values[3]:
            wrong.append("total != parts")
        if wrong:
            c.add("PAYOUT_LINES", "payout", pk, f"{status} payout of {total}: " + "; ".join(wrong))

    foreign_commissions = CommissionRecord.objects.order_by().filter(payout__in=payouts).filter(
        ~Q(broker_id=F("payout__broker_id")) | Q(order_paid_at__gte=F("payout__period_end")))
    for number, payout_id in foreign_commissions.values_list("order__order_number", "payout_id"):
        c.add("PAYOUT_LINE_OWNER", "payout", payout_id,
              f"commission of order {number}: another broker's, or paid after the period")
    foreign_adjustments = CommissionAdjustment.objects.order_by().filter(payout__in=payouts).filter(
        ~Q(broker_id=F("payout__broker_id")))
    for key, payout_id in foreign_adjustments.values_list("key", "payout_id"):
        c.add("PAYOUT_LINE_OWNER", "payout", payout_id, f"adjustment {key} belongs to another broker")


def _by_broker(queryset, **aggregates) -> dict:
    return {row.pop("broker_id"): row for row in queryset.order_by().values("broker_id").annotate(**aggregates)}


def check_broker_ledgers(c, *, say: Say) -> int:
    """Per broker, over everything: earned - clawbacks == paid out (live payouts) + pending."""
    commissions = _by_broker(
        CommissionRecord.objects,
        earned=Sum(F("original_revenue_share") + F("original_markup"), default=0),
        current=Sum("total_commission", default=0),
        pending=Sum("total_commission", default=0,
                    filter=Q(status__in=(CommissionStatus.PAYABLE, CommissionStatus.HELD))),
    )
    adjustments = _by_broker(
        CommissionAdjustment.objects,
        negative=Sum("amount", default=0, filter=Q(amount__lt=0)),
        positive=Sum("amount", default=0, filter=Q(amount__gt=0)),
        open=Sum("amount", default=0, filter=Q(status=AdjustmentStatus.OPEN)),
    )
    payouts = _by_broker(Payout.objects.filter(status__in=LIVE_PAYOUT), took=Sum("total_amount", default=0))
    brokers = set(commissions) | set(adjustments) | set(payouts)
    for broker_id in sorted(brokers, key=str):
        comm = commissions.get(broker_id, {"earned": 0, "current": 0, "pending": 0})
        adj = adjustments.get(broker_id, {"negative": 0, "positive": 0, "open": 0})
        took = payouts.get(broker_id, {"took": 0})["took"]
        clawbacks = (comm["earned"] - comm["current"]) - adj["negative"]
        net = comm["earned"] - clawbacks + adj["positive"]
        pending = comm["pending"] + adj["open"]
        if net != took + pending:
            extra = f" + adjustments {adj['positive']}" if adj["positive"] else ""
            c.add("BROKER_LEDGER", "broker", broker_id,
                  f"earned {comm['earned']} - clawbacks {clawbacks}{extra} = {net} "
                  f"!= paid out {took} + pending {pending} (= {took + pending})")
    return len(brokers)


def check_analytics(c, *, say: Say) -> None:
    """The brokers' daily figures, summed over all days, against their paid orders."""
    stats = _by_broker(BrokerDailyStats.objects, orders=Sum("orders_count", default=0),
                       sales=Sum("total_sales", default=0), share=Sum("revenue_share_earned", default=0),
                       markup=Sum("markup_earned", default=0), refunded=Sum("refunded_amount", default=0))
    paid = _by_broker(Order.objects.filter(_paid_transition(), broker__isnull=False), orders=Count("pk"),
                      sales=Sum("total_charged", default=0), share=Sum("broker_revenue_share", default=0),
                      markup=Sum("broker_markup", default=0), refunded=Sum("amount_refunded", default=0))
    zero = {"orders": 0, "sales": 0, "share": 0, "markup": 0, "refunded": 0}
    for broker_id in sorted(set(stats) | set(paid), key=str):
        have, want = stats.get(broker_id, zero), paid.get(broker_id, zero)
        wrong = [f"{name} {have[name]} != {want[name]}" for name in zero if have[name] != want[name]]
        if wrong:
            c.add("ANALYTICS_MISMATCH", "broker", broker_id, "daily figures vs paid orders: " + "; ".join(wrong))


def check_all(c, *, since: datetime | None, say: Say) -> None:
    steps = [
        ("order totals vs items", check_order_items),
        ("item pricing", check_item_pricing),
        ("order money and states", check_order_money),
        ("order summaries vs payments and supplier orders", check_payment_summaries),
        ("money taken - refunded vs the paying payment (excess payments)", check_money_kept),
        ("one commission per paid broker order", check_commission_presence),
        ("commissions vs their orders", check_commission_origin),
        ("commission clawbacks vs refunds and disputes", check_commission_clawbacks),
        ("commission and adjustment states", check_commission_status),
        ("payouts vs their lines", check_payouts),
    ]
    orders = _orders(since).count()
    commissions = _commissions(since).count()
    say(f"reconcile: {orders:,} orders, {commissions:,} commissions"
        + (f" (created since {since:%Y-%m-%d %H:%M} UTC)" if since else ""))
    for label, step in steps:
        before = c.report.total
        step(c, since=since, say=say)
        say(f"  {label}: {c.report.total - before} discrepancies")
    before = c.report.total
    brokers = check_broker_ledgers(c, say=say)
    say(f"  broker ledgers (all time): {c.report.total - before} discrepancies")
    if since is None:
        before = c.report.total
        check_analytics(c, say=say)
        say(f"  broker analytics (all time): {c.report.total - before} discrepancies")
    payouts = Payout.objects.filter(period_end__gt=since).count() if since else Payout.objects.count()
    c.report.checked.update(orders=orders, commissions=commissions, payouts=payouts, brokers=brokers)
