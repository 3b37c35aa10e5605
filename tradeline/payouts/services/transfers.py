"""Sending payouts with Stripe Connect transfers, and taking part of a transfer back.

Lock order: Payout -> PayoutTransfer (both the claim and the record take the payout row first).

Sending a PENDING payout (`payout_send`) is three steps, never a Stripe call inside a transaction or
under a row lock:
  1. claim (one transaction, the payout row locked): check the payout is PENDING and the broker's
     connected account can receive transfers; create the PayoutTransfer row (SENDING) with the
     amount, destination and idempotency key fixed once — or, on a repeat, count one more attempt;
  2. ask Stripe: on a repeat first look for a transfer of the group (the payout id) — a timeout may
     have hidden a transfer that was made — and create one only if there is none, always with the
     same idempotency key (`payout-transfer-<payout id>`), so concurrent or repeated sends make one;
  3. record (one transaction): SENT -> the payout COMPLETED with the transfer id (commissions PAID);
     refused by Stripe (balance too low, account restricted) -> DECLINED and the payout FAILED with
     Stripe's reason, its commissions payable again. Unknown outcome (timeout, 5xx): the row stays
     SENDING and the payout PENDING; manual transitions are refused until a send settles it.

`transfer_reverse` takes part of a deactivated broker's last transfer back when the broker owes
clawbacks (a negative balance), booked as a positive TRANSFER_REVERSAL adjustment, in the same
claim / call / record steps.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tradeline.audit.services import activity_entry, activity_log, activity_log_many
from tradeline.brokers.models import Broker, BrokerStatus
from tradeline.core.errors import Conflict, NotFound, UpstreamError, ValidationFailed
from tradeline.hooks import events as hook_events
from tradeline.payouts import connect_gateway as gateway
from tradeline.payouts import emails
from tradeline.payouts.models import (
    CommissionAdjustment,
    ConnectedAccount,
    Payout,
    PayoutStatus,
    PayoutTransfer,
    TransferReversal,
)
from tradeline.payouts.selectors import broker_earnings
from tradeline.payouts.services.payout_status import lines_mark_paid, payout_fail, payout_mark_paid

logger = logging.getLogger(__name__)

STRIPE_METHOD = "STRIPE_CONNECT"


def transfer_key(payout_id) -> str:
    return f"payout-transfer-{payout_id}"


@dataclass(frozen=True)
class SendResult:
    payout: Payout
    outcome: str  # sent | already_sent | declined
    message: str = ""


def _claim(payout_id) -> tuple[Payout, PayoutTransfer]:
    with transaction.atomic():
        payout = (Payout.objects.select_for_update(of=("self",)).select_related("broker")
                  .filter(pk=payout_id).first())
        if payout is None:
            raise NotFound("No such payout.", code="PAYOUT_NOT_FOUND")
        attempt = PayoutTransfer.objects.filter(payout_id=payout.pk).first()
        if attempt is not None and attempt.status == PayoutTransfer.Status.SENT:
            return payout, attempt
        if attempt is not None and attempt.status == PayoutTransfer.Status.DECLINED:
            raise Conflict(f"Stripe declined this payout's transfer: {attempt.failure_message}",
                           code="PAYOUT_TRANSFER_DECLINED", details={"stripe_code": attempt.failure_code})
        if payout.status != PayoutStatus.PENDING:
            raise Conflict(f"This payout is {payout.status}; only a PENDING payout can be sent.",
                           code="PAYOUT_NOT_PENDING", details={"status": payout.status})
        gateway.get_client()  # Stripe not configured: refuse before anything is claimed (no network call)
        if attempt is None:
            account = ConnectedAccount.objects.filter(broker_id=payout.broker_id).first()
            if account is None:
                raise Conflict("This broker has no Stripe account; pay it manually and record the transaction id.",
                               code="NO_CONNECTED_ACCOUNT")
            if not account.can_receive:
                raise Conflict("Stripe has not enabled payouts for this broker's account yet.",
                               code="PAYOUTS_NOT_ENABLED", details={"requirements_due": account.requirements_due})
            attempt = PayoutTransfer.objects.create(
                payout=payout, broker_id=payout.broker_id, destination=account.stripe_account_id,
                amount=payout.total_amount, idempotency_key=transfer_key(payout.pk), attempts=1)
        else:
            PayoutTransfer.objects.filter(pk=attempt.pk).update(attempts=F("attempts") + 1, updated_at=timezone.now())
            attempt.attempts += 1
        return payout, attempt


def _metadata(payout: Payout) -> dict:
    return {"payout_id": str(payout.pk), "broker_id": str(payout.broker_id),
            "period": f"{payout.period_start:%Y-%m}"}


def payout_send(*, payout_id, actor_user=None) -> SendResult:
    """Send a PENDING payout through Stripe (see the module doc). Raises UpstreamError when Stripe's
    answer is unknown (send again: it finds the transfer or makes the one transfer)."""
    payout, attempt = _claim(payout_id)
    if attempt.status == PayoutTransfer.Status.SENT:
        return SendResult(payout, "already_sent")
    try:
        found = gateway.find_transfers(transfer_group=str(payout.pk)) if attempt.attempts > 1 else []
        transfer = found[0] if found else gateway.create_transfer(
            amount=attempt.amount, currency=attempt.currency, destination=attempt.destination,
            transfer_group=str(payout.pk), metadata=_metadata(payout), idempotency_key=attempt.idempotency_key)
    except gateway.StripeRefused as exc:
        return _record_declined(attempt, exc, actor_user)
    except UpstreamError:
        logger.warning("payout %s: Stripe did not answer the transfer (attempt %s); it stays SENDING",
                       payout.pk, attempt.attempts)
        raise
    return _record_sent(attempt, transfer, actor_user)


def _lock_payout(payout_id) -> None:
    """The payout row first, as _claim takes it (lock order Payout -> PayoutTransfer)."""
    Payout.objects.select_for_update(of=("self",)).filter(pk=payout_id).values_list("pk", flat=True).first()


def _record_sent(attempt: PayoutTransfer, transfer: gateway.Transfer, actor_user) -> SendResult:
    now = timezone.now()
    with transaction.atomic():
        _lock_payout(attempt.payout_id)
        changed = PayoutTransfer.objects.filter(pk=attempt.pk, status=PayoutTransfer.Status.SENDING).update(
            status=PayoutTransfer.Status.SENT, stripe_transfer_id=transfer.id, sent_at=now, updated_at=now)
        Payout.objects.filter(pk=attempt.payout_id, status=PayoutStatus.PENDING).update(payment_method=STRIPE_METHOD)
        payout = payout_mark_paid(payout_id=attempt.payout_id, transaction_id=transfer.id,
                                  notes=f"Sent with Stripe Connect to {attempt.destination}", actor_user=actor_user,
                                  notify=False)  # emailed below, once the transfer is recorded
    if changed:
        emails.send_payout_sent(payout=payout)
        return SendResult(payout, "sent")
    return SendResult(payout, "already_sent")


def _record_declined(attempt: PayoutTransfer, exc: gateway.StripeRefused, actor_user) -> SendResult:
    reason = f"Stripe declined the transfer: {exc.stripe_message}"[:1000]
    with transaction.atomic():
        _lock_payout(attempt.payout_id)
        changed = PayoutTransfer.objects.filter(pk=attempt.pk, status=PayoutTransfer.Status.SENDING).update(
            status=PayoutTransfer.Status.DECLINED, failure_code=exc.stripe_code[:100],
            failure_message=exc.stripe_message, updated_at=timezone.now())
        payout = (payout_fail(payout_id=attempt.payout_id, reason=reason, actor_user=actor_user) if changed
                  else Payout.objects.select_related("broker").get(pk=attempt.payout_id))
    if changed:
        emails.send_payout_failed(payout=payout, reason=reason)
    return SendResult(payout, "declined", reason)


def payouts_send_all(*, payout_ids, actor_user=None, progress=None, workers: int | None = None) -> dict[str, int]:
    """Send many payouts (the month-end `create_payouts --send`): the same claim / call / record
    steps as payout_send, each step for all payouts at once — one claim transaction, the Stripe
    calls on a small thread pool (PAYOUT_SEND_WORKERS; HTTP only, no database), one record
    transaction for every accepted transfer (set-based), declines one by one. Payouts whose broker
    cannot receive transfers stay PENDING (counted as manual)."""
    say = progress or (lambda line: None)
    counts = {"sent": 0, "already_sent": 0, "declined": 0, "manual": 0, "unknown": 0}
    ids = list(payout_ids)
    if ids:
        gateway.get_client()  # not configured: refuse before anything is claimed
    claimed = _claim_many(ids)
    counts["already_sent"] = sum(1 for _, a in claimed if a.status == PayoutTransfer.Status.SENT)
    todo = [(p, a) for p, a in claimed if a.status == PayoutTransfer.Status.SENDING]
    counts["manual"] = len(ids) - len(claimed)
    n = max(1, workers if workers is not None else settings.PAYOUT_SEND_WORKERS)
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="payout-send") as pool:
        answers = list(pool.map(lambda pair: _ask_stripe(*pair), todo))
    accepted = [(a, answer) for (_, a), answer in zip(todo, answers, strict=True)
                if isinstance(answer, gateway.Transfer)]
    counts["sent"] = _record_many_sent(accepted, actor_user)
    for (_, attempt), answer in zip(todo, answers, strict=True):
        if isinstance(answer, gateway.StripeRefused):
            _record_declined(attempt, answer, actor_user)
            counts["declined"] += 1
        elif answer is None:
            counts["unknown"] += 1
    say(", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items()))
    return counts


def _claim_many(payout_ids: list) -> list[tuple[Payout, PayoutTransfer]]:
    """Step 1 for many: the PENDING payouts of brokers that can receive transfers get their
    PayoutTransfer (or one more attempt); SENT ones are returned as they are."""
    with transaction.atomic():
        payouts = list(Payout.objects.select_for_update(of=("self",)).select_related("broker")
                       .filter(pk__in=payout_ids).order_by("pk"))
        existing = {t.payout_id: t for t in PayoutTransfer.objects.filter(payout_id__in=[p.pk for p in payouts])}
        accounts = {a.broker_id: a for a in ConnectedAccount.objects.filter(
            broker_id__in={p.broker_id for p in payouts}, payouts_enabled=True, transfers_active=True)}
        new = [PayoutTransfer(payout=p, broker_id=p.broker_id, destination=accounts[p.broker_id].stripe_account_id,
                              amount=p.total_amount, idempotency_key=transfer_key(p.pk), attempts=1)
               for p in payouts if p.pk not in existing and p.status == PayoutStatus.PENDING
               and p.broker_id in accounts]
        PayoutTransfer.objects.bulk_create(new, batch_size=500)
        retry = [t for t in existing.values() if t.status == PayoutTransfer.Status.SENDING]
        PayoutTransfer.objects.filter(pk__in=[t.pk for t in retry]).update(attempts=F("attempts") + 1,
                                                                          updated_at=timezone.now())
        for t in retry:
            t.attempts += 1
        attempts = {t.payout_id: t for t in [*new, *existing.values()]
                    if t.status != PayoutTransfer.Status.DECLINED}
        return [(p, attempts[p.pk]) for p in payouts if p.pk in attempts]


def _ask_stripe(payout: Payout, attempt: PayoutTransfer):
    """Step 2 for one attempt: the Transfer, a StripeRefused, or None (no answer: stays SENDING)."""
    try:
        found = gateway.find_transfers(transfer_group=str(payout.pk)) if attempt.attempts > 1 else []
        return found[0] if found else gateway.create_transfer(
            amount=attempt.amount, currency=attempt.currency, destination=attempt.destination,
            transfer_group=str(payout.pk), metadata=_metadata(payout), idempotency_key=attempt.idempotency_key)
    except gateway.StripeRefused as exc:
        return exc
    except UpstreamError:
        logger.warning("payout %s: Stripe did not answer the transfer (attempt %s)", payout.pk, attempt.attempts)
        return None


def _record_many_sent(accepted: list[tuple[PayoutTransfer, gateway.Transfer]], actor_user) -> int:
    """Step 3 for every accepted transfer, in one transaction (lock order Payout -> PayoutTransfer)."""
    if not accepted:
        return 0
    now = timezone.now()
    by_payout = {a.payout_id: (a, t) for a, t in accepted}
    with transaction.atomic():
        payouts = list(Payout.objects.select_for_update(of=("self",)).select_related("broker")
                       .filter(pk__in=list(by_payout), status=PayoutStatus.PENDING).order_by("pk"))
        sending = set(PayoutTransfer.objects.filter(payout_id__in=[p.pk for p in payouts],
                                                    status=PayoutTransfer.Status.SENDING).values_list("pk", flat=True))
        payouts = [p for p in payouts if by_payout[p.pk][0].pk in sending]
        rows = []
        for p in payouts:
            attempt, transfer = by_payout[p.pk]
            attempt.status, attempt.stripe_transfer_id, attempt.sent_at = PayoutTransfer.Status.SENT, transfer.id, now
            rows.append(attempt)
            p.status, p.transaction_id, p.payment_method = PayoutStatus.COMPLETED, transfer.id, STRIPE_METHOD
            p.notes, p.processed_at, p.processed_by = f"Sent with Stripe Connect to {attempt.destination}", now, actor_user
        PayoutTransfer.objects.bulk_update(rows, ["status", "stripe_transfer_id", "sent_at"], batch_size=500)
        Payout.objects.bulk_update(payouts, ["status", "transaction_id", "payment_method", "notes", "processed_at",
                                             "processed_by"], batch_size=500)
        lines_mark_paid(payouts, now=now)
        activity_log_many([activity_entry(
            action="payout.completed", entity=p, actor_user=actor_user, broker_id=p.broker_id,
            metadata={"transaction_id": p.transaction_id, "total_amount": p.total_amount,
                      "commissions": p.commission_count, "adjustments": p.adjustment_count}) for p in payouts])
        for p in payouts:
            hook_events.payout_sent(p)
    for p in payouts:
        emails.send_payout_sent(payout=p)
    return len(payouts)


# ---- reversals --------------------------------------------------------------------------------


def broker_balance(*, broker_id) -> int:
    """What the broker is owed now (negative: it owes us): payable and held commissions plus open
    adjustments, as its earnings show them."""
    earnings = broker_earnings(broker=Broker(pk=broker_id))
    return earnings["pending"] + earnings["held"] + earnings["open_adjustments"]


def _claim_reversal(*, broker_id, amount: int, actor_user) -> TransferReversal:
    with transaction.atomic():
        broker = Broker.objects.select_for_update(no_key=True).filter(pk=broker_id).first()
        if broker is None:
            raise NotFound("No such broker.", code="BROKER_NOT_FOUND")
        pending = TransferReversal.objects.filter(broker_id=broker_id, status=TransferReversal.Status.PENDING).first()
        if pending is not None:  # an earlier try did not get an answer: finish that one first
            return pending
        if broker.status != BrokerStatus.INACTIVE:
            raise Conflict("Only a deactivated broker's transfer can be reversed; an active broker's clawbacks "
                           "come out of the next payout.", code="BROKER_NOT_DEACTIVATED")
        balance = broker_balance(broker_id=broker_id)
        if balance >= 0:
            raise Conflict("This broker owes nothing.", code="NO_NEGATIVE_BALANCE", details={"balance": balance})
        transfer = (PayoutTransfer.objects.select_for_update().filter(broker_id=broker_id,
                                                                      status=PayoutTransfer.Status.SENT)
                    .order_by("-sent_at").first())
        if transfer is None:
            raise Conflict("This broker was never paid through Stripe.", code="NO_TRANSFER")
        limit = min(-balance, transfer.amount - transfer.amount_reversed)
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= limit:
            raise ValidationFailed(f"The amount must be between 1 and {limit} cents (what is owed, and what is "
                                   "left of the last transfer).", code="INVALID_REVERSAL_AMOUNT",
                                   details={"max": limit})
        n = TransferReversal.objects.filter(transfer=transfer).count()
        return TransferReversal.objects.create(
            transfer=transfer, broker_id=broker_id, amount=amount, created_by=actor_user,
            idempotency_key=f"transfer-reversal-{transfer.pk}-{n + 1}")


def transfer_reverse(*, broker_id, amount: int, actor_user=None) -> TransferReversal:
    """Take `amount` back from a deactivated broker's last transfer (see the module doc)."""
    reversal = _claim_reversal(broker_id=broker_id, amount=amount, actor_user=actor_user)
    transfer = reversal.transfer
    try:
        result = gateway.create_transfer_reversal(
            transfer_id=transfer.stripe_transfer_id, amount=reversal.amount, idempotency_key=reversal.idempotency_key,
            metadata={"broker_id": str(broker_id), "payout_id": str(transfer.payout_id)})
    except gateway.StripeRefused as exc:
        TransferReversal.objects.filter(pk=reversal.pk, status=TransferReversal.Status.PENDING).update(
            status=TransferReversal.Status.FAILED, failure_message=exc.stripe_message, updated_at=timezone.now())
        raise Conflict(f"Stripe refused the reversal: {exc.stripe_message}", code="REVERSAL_DECLINED") from exc
    now = timezone.now()
    with transaction.atomic():
        changed = TransferReversal.objects.filter(pk=reversal.pk, status=TransferReversal.Status.PENDING).update(
            status=TransferReversal.Status.DONE, stripe_reversal_id=result["id"], updated_at=now)
        if changed:
            adjustment = CommissionAdjustment.objects.create(
                broker_id=broker_id, amount=reversal.amount, revenue_share_amount=reversal.amount, markup_amount=0,
                reason=CommissionAdjustment.Reason.TRANSFER_REVERSAL, key=f"reversal:{result['id']}",
                note=f"Taken back from Stripe transfer {transfer.stripe_transfer_id}", created_by=actor_user)
            TransferReversal.objects.filter(pk=reversal.pk).update(adjustment=adjustment)
            PayoutTransfer.objects.filter(pk=transfer.pk).update(amount_reversed=F("amount_reversed") + reversal.amount,
                                                                 updated_at=now)
            activity_log(action="payout.transfer_reversed", entity=transfer.payout, actor_user=actor_user,
                         broker_id=broker_id, metadata={"amount": reversal.amount, "reversal_id": result["id"],
                                                        "transfer_id": transfer.stripe_transfer_id})
    reversal.refresh_from_db()
    return reversal
