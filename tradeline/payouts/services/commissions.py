"""Commission records: created when an order is paid, reduced by refunds, held by disputes.

A commission's amounts are what is still owed to the broker. Before the commission is taken by a
payout (PAYABLE / HELD) a refund or a lost dispute reduces those amounts directly (VOID at zero);
once it is in a payout (IN_PAYOUT / PAID) the amounts are frozen and every further clawback is a
negative CommissionAdjustment that the broker's next payout deducts. A commission given back by a
failed/cancelled payout after adjustments were booked against it stays on adjustments too (its
amounts are settled against them; reducing the amounts as well would claw back twice).

A HELD commission leaves HELD when its dispute closes, won or lost: VOID when a lost dispute
reduced it to zero, else PAYABLE.

"Clawed back so far" of a commission = (original - current amounts) - Σ its adjustments. Each
service computes the clawback the order's state calls for and books only the missing part, so
repeating a call with the same order state changes nothing.

Lock order (tradeline.core.locks): Order -> Commission -> Adjustment. Every function here runs in
one transaction and locks the order row, then the commission row.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from tradeline.audit.models import ActivityLog
from tradeline.audit.services import activity_entry, activity_log, activity_log_many
from tradeline.core.money import clawback_cents, proportion_of
from tradeline.core.db import insert_unless_present
from tradeline.hooks import events as hook_events
from tradeline.hooks.models import EventType
from tradeline.orders.models import DisputeStatus, Order
from tradeline.payouts.models import (
    AdjustmentStatus,
    CommissionAdjustment,
    CommissionRecord,
    CommissionStatus,
)

OPEN_STATES = (CommissionStatus.PAYABLE, CommissionStatus.HELD)  # amounts may still change
PAID_OUT_STATES = (CommissionStatus.IN_PAYOUT, CommissionStatus.PAID)  # amounts frozen


@dataclass(frozen=True)
class Clawback:
    """Cents taken back from a commission, split into its two sources."""

    revenue_share: int
    markup: int

    @property
    def total(self) -> int:
        return self.revenue_share + self.markup


def split_clawback(*, original_share: int, original_markup: int, target: int) -> Clawback:
    """Split a clawback of `target` cents between share and markup.

    The share piece is rounded in proportion; the markup piece takes the rest. Neither piece ever
    exceeds its original, and the two always add up to `target` exactly.
    """
    original = original_share + original_markup
    if target <= 0 or original <= 0:
        return Clawback(0, 0)
    target = min(target, original)
    share = min(proportion_of(original_share, target, original), original_share, target)
    markup = target - share
    if markup > original_markup:
        share += markup - original_markup
        markup = original_markup
    return Clawback(share, markup)


def refund_clawback(*, original_share: int, original_markup: int, amount_refunded: int, total_charged: int) -> Clawback:
    """The clawback a cumulative refund calls for (core.money.clawback_cents), split."""
    target = clawback_cents(earnings=original_share + original_markup, amount_refunded=amount_refunded,
                            total_charged=total_charged)
    return split_clawback(original_share=original_share, original_markup=original_markup, target=target)


def _booked(commission: CommissionRecord) -> Clawback:
    """What has been clawed back from this commission so far (reductions + adjustments)."""
    sums = commission.adjustments.aggregate(share=Sum("revenue_share_amount"), markup=Sum("markup_amount"))
    return Clawback(
        commission.original_revenue_share - commission.revenue_share_amount - (sums["share"] or 0),
        commission.original_markup - commission.markup_amount - (sums["markup"] or 0),
    )


def _target(commission: CommissionRecord, order: Order) -> Clawback:
    """The clawback the order's current state calls for (core.money.clawback_cents), split."""
    target = clawback_cents(earnings=commission.original_revenue_share + commission.original_markup,
                            amount_refunded=order.amount_refunded, total_charged=order.total_charged,
                            dispute_lost=order.dispute_status == DisputeStatus.LOST)
    return split_clawback(original_share=commission.original_revenue_share,
                          original_markup=commission.original_markup, target=target)


def _lock(order: Order) -> tuple[Order, CommissionRecord | None]:
    return Order.objects.locked(order.pk), CommissionRecord.objects.locked_of_order(order.pk)


def _book_clawback(
    *, order: Order, commission: CommissionRecord, target: Clawback, reason: str, key: str
) -> CommissionAdjustment | Clawback | None:
    """Book the part of `target` not booked yet: reduce the amounts or add a negative adjustment.

    Returns what was booked (the adjustment, or the reduction), None when nothing was missing.
    Never gives money back: a target below what is already booked changes nothing.
    """
    has_adjustments = commission.adjustments.exists()
    booked = _booked(commission)
    missing = Clawback(target.revenue_share - booked.revenue_share, target.markup - booked.markup)
    if missing.total <= 0:
        return None
    if commission.status in OPEN_STATES and not has_adjustments:
        # Reduce within the originals: the target pieces never exceed them.
        commission.revenue_share_amount = commission.original_revenue_share - target.revenue_share
        commission.markup_amount = commission.original_markup - target.markup
        commission.total_commission = commission.revenue_share_amount + commission.markup_amount
        fields = ["revenue_share_amount", "markup_amount", "total_commission", "updated_at"]
        if commission.total_commission == 0:
            commission.status = CommissionStatus.VOID
            fields.append("status")
        commission.save(update_fields=fields)
        return missing
    if commission.status == CommissionStatus.VOID:
        return None  # nothing left to take
    # Paid out (or back from a cancelled payout with adjustments already booked against it):
    # the amounts stay, the missing part is deducted from the next payout.
    adjustment, _ = _adjustment_once(
        key=key,
        defaults={
            "broker_id": commission.broker_id,
            "order_id": order.pk,
            "commission": commission,
            "revenue_share_amount": -missing.revenue_share,
            "markup_amount": -missing.markup,
            "amount": -missing.total,
            "reason": reason,
            "status": AdjustmentStatus.OPEN,
        },
    )
    return adjustment


def _adjustment_once(*, key: str, defaults: dict) -> tuple[CommissionAdjustment, bool]:
    existing = CommissionAdjustment.objects.filter(key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return CommissionAdjustment.objects.create(key=key, **defaults), True
    except IntegrityError:
        return CommissionAdjustment.objects.get(key=key), False


@transaction.atomic(savepoint=False)
def commission_create_for_order(*, order: Order, current: bool = False,
                                activity: list[ActivityLog] | None = None) -> CommissionRecord | None:
    """The broker's commission for a paid order, from its frozen share and markup.

    Call inside the paid transaction. None for a direct sale. A second call (also a concurrent
    one) returns the existing record: the order has at most one commission (OneToOne; the insert
    is ON CONFLICT DO NOTHING, so no savepoint). A commission created for an order already disputed
    starts HELD; one created after refunds arrived (out-of-order events) is reduced right away.
    `current=True`: `order` is the row as the caller has just locked and saved it (the paid
    transition), so it is not read again. `activity`: the caller's list of activity entries to
    write together (audit.activity_log_many, in the same transaction); the commission's entry is
    added to it instead of being written here.
    """
    if order.broker_id is None:
        return None
    if not current:
        order = Order.objects.get(pk=order.pk)  # the current row: paid_at, refunds, dispute
    status = CommissionStatus.HELD if order.dispute_status == DisputeStatus.OPEN else CommissionStatus.PAYABLE
    commission = CommissionRecord(
        broker_id=order.broker_id,
        order=order,
        original_revenue_share=order.broker_revenue_share,
        original_markup=order.broker_markup,
        revenue_share_amount=order.broker_revenue_share,
        markup_amount=order.broker_markup,
        total_commission=order.broker_revenue_share + order.broker_markup,
        status=status,
        order_paid_at=order.paid_at or timezone.now(),
    )
    if not insert_unless_present(commission):
        existing = CommissionRecord.objects.filter(order_id=order.pk).first()
        if existing is None:  # not a duplicate: SQLite's INSERT OR IGNORE also skips a failed CHECK
            raise IntegrityError(f"the commission of order {order.pk} was not inserted")
        return existing
    entry = activity_entry(
        action="commission.created",
        entity=commission,
        broker_id=order.broker_id,
        metadata={"order_number": order.order_number, "total_commission": commission.total_commission,
                  "status": commission.status},
    )
    if activity is None:
        activity_log_many([entry])
    else:
        activity.append(entry)
    hook_events.commission_event(commission, EventType.COMMISSION_CREATED)
    if order.amount_refunded > 0 or order.dispute_status == DisputeStatus.LOST:
        commission_apply_refund(order=order)
    return commission


@transaction.atomic
def commission_apply_refund(*, order: Order) -> None:
    """Bring the commission in line with the order's cumulative refunded amount.

    Target clawback = broker earnings × amount_refunded / total_charged (half up), split between
    share and markup. PAYABLE/HELD: the amounts are reduced (VOID at zero). IN_PAYOUT/PAID: the
    part not booked yet becomes a negative adjustment keyed "refund:<order id>:<cumulative>",
    deducted from the next payout. The same cumulative amount twice changes nothing.
    """
    order, commission = _lock(order)
    if commission is None:
        return
    target = _target(commission, order)
    reason = (
        CommissionAdjustment.Reason.DISPUTE_LOST
        if order.dispute_status == DisputeStatus.LOST
        else CommissionAdjustment.Reason.REFUND
    )
    booked = _book_clawback(
        order=order, commission=commission, target=target, reason=reason,
        key=f"refund:{order.pk}:{order.amount_refunded}",
    )
    if booked is None:
        return
    metadata = {"order_number": order.order_number, "amount_refunded": order.amount_refunded,
                "total_charged": order.total_charged, "clawback_total": target.total}
    if isinstance(booked, CommissionAdjustment):
        metadata["adjustment_amount"] = booked.amount
        action = "commission.clawback_booked"
    else:
        metadata["reduced_by"] = booked.total
        metadata["remaining"] = commission.total_commission
        action = "commission.reduced"
    activity_log(action=action, entity=commission, broker=commission.broker, metadata=metadata)
    hook_events.commission_event(commission, EventType.COMMISSION_CLAWED_BACK, clawback_total=target.total)


@transaction.atomic
def commission_hold_for_dispute(*, order: Order) -> CommissionRecord | None:
    """A dispute was opened: a PAYABLE commission is held out of payouts until it closes.

    A commission already in a payout (or paid) has nothing to hold; a lost dispute claws it back
    later through an adjustment. Repeating the call changes nothing.
    """
    order, commission = _lock(order)
    if commission is None:
        return None
    if commission.status == CommissionStatus.PAYABLE:
        commission.status = CommissionStatus.HELD
        commission.save(update_fields=["status", "updated_at"])
        activity_log(action="commission.held", entity=commission, broker=commission.broker,
                     metadata={"order_number": order.order_number, "total_commission": commission.total_commission})
    return commission


@transaction.atomic
def commission_dispute_closed(*, order: Order, won: bool) -> CommissionRecord | None:
    """A dispute closed. Lost: clawed back in full — reduced to zero (VOID) if not paid out yet, else
    a negative adjustment keyed "dispute:<order id>" for the next payout. Won, or lost with the
    clawback booked as adjustments: a HELD commission is payable again. Repeating the call changes
    nothing.

    A closed dispute never leaves a commission HELD. The case that needs care: a commission given
    back by a failed/cancelled payout with clawback adjustments already booked against it keeps its
    amounts (they are settled against those adjustments), so a lost dispute books the rest as an
    adjustment too and the commission, PAYABLE, nets to zero in the next payout.
    """
    order, commission = _lock(order)
    if commission is None:
        return None
    if not won:
        target = Clawback(commission.original_revenue_share, commission.original_markup)
        booked = _book_clawback(
            order=order, commission=commission, target=target,
            reason=CommissionAdjustment.Reason.DISPUTE_LOST, key=f"dispute:{order.pk}",
        )
        if booked is not None:
            metadata = {"order_number": order.order_number, "clawback_total": target.total}
            if isinstance(booked, CommissionAdjustment):
                metadata["adjustment_amount"] = booked.amount
            else:
                metadata["reduced_by"] = booked.total
            activity_log(action="commission.dispute_lost", entity=commission, broker=commission.broker,
                         metadata=metadata)
            hook_events.commission_event(commission, EventType.COMMISSION_CLAWED_BACK, clawback_total=target.total)
    if commission.status == CommissionStatus.HELD:
        commission.status = CommissionStatus.PAYABLE
        commission.save(update_fields=["status", "updated_at"])
        activity_log(action="commission.released", entity=commission, broker=commission.broker,
                     metadata={"order_number": order.order_number,
                               "reason": "dispute won" if won else "dispute lost, clawed back by adjustments"})
    return commission
