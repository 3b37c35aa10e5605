"""Payout transitions after a run: PENDING -> COMPLETED (the broker was paid), FAILED (the transfer
bounced) or CANCELLED; the last two give the payout's commissions and adjustments back to the next
payout. Each starts with a conditional UPDATE of the payout row (lock order: see services/payouts.py).
"""

from functools import partial

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from tradeline.audit.services import activity_log
from tradeline.core.errors import Conflict, NotFound, ValidationFailed
from tradeline.hooks import events as hook_events
from tradeline.orders.models import DisputeStatus, Order
from tradeline.payouts import emails as payout_emails
from tradeline.payouts.models import (
    AdjustmentStatus,
    CommissionAdjustment,
    CommissionRecord,
    CommissionStatus,
    Payout,
    PayoutStatus,
    PayoutTransfer,
)


def _transition(*, payout_id, to: str, actor_user, **fields) -> Payout:
    # A payout whose Stripe transfer is being sent (outcome not known yet) is settled by the send only.
    sending = Exists(PayoutTransfer.objects.filter(payout_id=OuterRef("pk"), status=PayoutTransfer.Status.SENDING))
    updated = Payout.objects.filter(pk=payout_id, status=PayoutStatus.PENDING).exclude(sending).update(
        status=to, updated_at=timezone.now(), **fields
    )
    if not updated:
        payout = Payout.objects.filter(pk=payout_id).first()
        if payout is None:
            raise NotFound("No such payout.", code="PAYOUT_NOT_FOUND")
        if payout.status == PayoutStatus.PENDING:
            raise Conflict("This payout's Stripe transfer is being sent; send it again to settle it.",
                           code="PAYOUT_TRANSFER_IN_FLIGHT")
        raise Conflict(
            f"This payout is {payout.status}; only a PENDING payout can be changed.",
            code="PAYOUT_NOT_PENDING", details={"status": payout.status},
        )
    return Payout.objects.select_related("broker").get(pk=payout_id)


@transaction.atomic
def payout_mark_paid(*, payout_id, transaction_id: str, notes: str = "", actor_user=None,
                     notify: bool = True) -> Payout:
    """PENDING -> COMPLETED: the admin paid the broker. Commissions PAID, adjustments APPLIED.
    The broker gets the "payout sent" email after the commit (notify=False: the caller sends it).

    Repeating with the same transaction id returns the payout unchanged; anything else that is not
    PENDING is a Conflict.
    """
    transaction_id = (transaction_id or "").strip()
    if not transaction_id:
        raise ValidationFailed("The transaction id of the transfer is required.", code="TRANSACTION_ID_REQUIRED")
    if "\x00" in transaction_id or "\x00" in (notes or ""):
        raise ValidationFailed("The transaction id and notes may not contain NUL characters.", code="INVALID_TEXT")
    if len(transaction_id) > 200:
        raise ValidationFailed("The transaction id is too long (200 characters at most).",
                               code="TRANSACTION_ID_TOO_LONG")
    now = timezone.now()
    done = Payout.objects.filter(pk=payout_id, status=PayoutStatus.COMPLETED, transaction_id=transaction_id).first()
    if done is not None:
        return done
    payout = _transition(payout_id=payout_id, to=PayoutStatus.COMPLETED, actor_user=actor_user,
                         transaction_id=transaction_id, notes=notes or "", processed_at=now, processed_by=actor_user)
    n_comm, n_adj = lines_mark_paid([payout], now=now)
    activity_log(action="payout.completed", entity=payout, actor_user=actor_user, broker=payout.broker,
                 metadata={"transaction_id": transaction_id, "total_amount": payout.total_amount,
                           "commissions": n_comm, "adjustments": n_adj})
    hook_events.payout_sent(payout)
    if notify:
        transaction.on_commit(partial(payout_emails.send_payout_sent, payout=payout))
    return payout


def lines_mark_paid(payouts: list[Payout], *, now) -> tuple[int, int]:
    """The lines of payouts just COMPLETED: commissions PAID, adjustments APPLIED (one UPDATE each,
    every payout's commissions found through the broker index). Returns (commissions, adjustments)."""
    if not payouts:
        return 0, 0
    ids = [p.pk for p in payouts]
    mine = CommissionRecord.objects.filter(broker_id__in={p.broker_id for p in payouts}, payout_id__in=ids)
    n_comm = mine.filter(status=CommissionStatus.IN_PAYOUT).update(
        status=CommissionStatus.PAID, paid_at=now, updated_at=now)
    n_adj = CommissionAdjustment.objects.filter(payout_id__in=ids,
                                                status=AdjustmentStatus.IN_PAYOUT).update(
        status=AdjustmentStatus.APPLIED, updated_at=now)
    return n_comm, n_adj


def _release(payout: Payout, now) -> tuple[int, int]:
    """Give a failed/cancelled payout's commissions and adjustments back to the next payout."""
    mine = CommissionRecord.objects.of_payout(payout).filter(status=CommissionStatus.IN_PAYOUT)
    disputed = Exists(Order.objects.filter(pk=OuterRef("order_id"), dispute_status=DisputeStatus.OPEN))
    held = mine.filter(disputed).update(status=CommissionStatus.HELD, payout=None, updated_at=now)
    payable = mine.update(status=CommissionStatus.PAYABLE, payout=None, updated_at=now)
    n_adj = CommissionAdjustment.objects.filter(payout_id=payout.pk, status=AdjustmentStatus.IN_PAYOUT).update(
        status=AdjustmentStatus.OPEN, payout=None, updated_at=now
    )
    return held + payable, n_adj


def _end(*, payout_id, to: str, reason: str, actor_user, action: str) -> Payout:
    if "\x00" in (reason or ""):
        raise ValidationFailed("The reason may not contain NUL characters.", code="INVALID_TEXT")
    now = timezone.now()
    fields = {"processed_at": now, "processed_by": actor_user}
    if reason:
        fields["notes"] = reason
    payout = _transition(payout_id=payout_id, to=to, actor_user=actor_user, **fields)
    n_comm, n_adj = _release(payout, now)
    activity_log(action=action, entity=payout, actor_user=actor_user, broker=payout.broker,
                 metadata={"reason": reason, "total_amount": payout.total_amount,
                           "commissions_released": n_comm, "adjustments_released": n_adj})
    return payout


@transaction.atomic
def payout_fail(*, payout_id, reason: str = "", actor_user=None) -> Payout:
    """PENDING -> FAILED (the transfer bounced): its commissions and adjustments carry over."""
    return _end(payout_id=payout_id, to=PayoutStatus.FAILED, reason=reason, actor_user=actor_user,
                action="payout.failed")


@transaction.atomic
def payout_cancel(*, payout_id, reason: str = "", actor_user=None) -> Payout:
    """PENDING -> CANCELLED: its commissions and adjustments carry over to the next payout."""
    return _end(payout_id=payout_id, to=PayoutStatus.CANCELLED, reason=reason, actor_user=actor_user,
                action="payout.cancelled")
