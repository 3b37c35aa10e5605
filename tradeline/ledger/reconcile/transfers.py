"""Reconciliation of payouts sent with Stripe Connect: each sent payout against its Transfer.

Database (always): a SENT transfer's payout is COMPLETED with the transfer id as its transaction id,
the transfer's amount is the payout's total, and its reversed amount is the sum of the reversals
done; a send whose outcome is still unknown an hour later is reported (send it again).
Stripe (unless --skip-stripe): the Transfer exists, has our amount, destination (the broker's
connected account), transfer group (the payout id) and reversed amount. Look-ups run on a small
thread pool with plain values only; a transient failure is counted in `report.stripe_errors`.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.db.models import Q, Sum
from django.utils import timezone

from tradeline.core.errors import UpstreamError
from tradeline.payouts import connect_gateway
from tradeline.payouts.models import Payout, PayoutStatus, PayoutTransfer, TransferReversal
from tradeline.payouts.services.transfers import STRIPE_METHOD

UNSETTLED_AFTER = timedelta(hours=1)

CODES = {
    "TRANSFER_RECORD": "a sent transfer disagrees with its payout (status, transaction id, amount, reversals)",
    "TRANSFER_UNSETTLED": "a payout's transfer was sent over an hour ago and its outcome is still unknown",
    "STRIPE_TRANSFER_MISSING": "Stripe does not know the transfer we recorded",
    "STRIPE_TRANSFER_MISMATCH": "Stripe's transfer has another amount, destination, group or reversed amount",
}


def _sent(since: datetime | None):
    rows = PayoutTransfer.objects.filter(status=PayoutTransfer.Status.SENT)
    return rows.filter(payout__period_end__gt=since) if since else rows


def check_records(c, *, since: datetime | None, say: Callable[[str], None]) -> None:
    before = c.report.total
    done = dict(TransferReversal.objects.filter(status=TransferReversal.Status.DONE).order_by()
                .values("transfer_id").annotate(total=Sum("amount")).values_list("transfer_id", "total"))
    rows = _sent(since).values_list("pk", "payout_id", "stripe_transfer_id", "amount", "amount_reversed",
                                    "payout__status", "payout__transaction_id", "payout__total_amount")
    n = 0
    for pk, payout_id, transfer_id, amount, reversed_, status, transaction_id, total in rows.iterator(chunk_size=500):
        n += 1
        problems = []
        if status != PayoutStatus.COMPLETED:
            problems.append(f"payout is {status}")
        if transaction_id != transfer_id:
            problems.append(f"payout transaction id {transaction_id!r} != transfer {transfer_id}")
        if amount != total:
            problems.append(f"transfer amount {amount} != payout total {total}")
        if reversed_ != done.get(pk, 0):
            problems.append(f"reversed {reversed_} != reversals done {done.get(pk, 0)}")
        if problems:
            c.add("TRANSFER_RECORD", "payout", payout_id, "; ".join(problems))
    unsent = (Payout.objects.filter(status=PayoutStatus.COMPLETED, payment_method=STRIPE_METHOD)
              .exclude(transfer__status=PayoutTransfer.Status.SENT))
    for payout_id in (unsent.filter(period_end__gt=since) if since else unsent).values_list("pk", flat=True):
        c.add("TRANSFER_RECORD", "payout", payout_id, "paid with Stripe Connect but no sent transfer is recorded")
    stale = PayoutTransfer.objects.filter(status=PayoutTransfer.Status.SENDING,
                                          updated_at__lt=timezone.now() - UNSETTLED_AFTER)
    for payout_id, attempts in stale.values_list("payout_id", "attempts"):
        c.add("TRANSFER_UNSETTLED", "payout", payout_id, f"sending, outcome unknown after {attempts} attempt(s)")
    if n:  # only where Connect is in use
        c.report.checked["sent payouts"] = n
    say(f"  sent payouts vs their records: {c.report.total - before} discrepancies")


def _compare(facts: tuple) -> tuple[list[str], bool, bool]:
    """(problems, missing, failed) for one (payout id, transfer id, amount, destination, reversed)."""
    payout_id, transfer_id, amount, destination, reversed_ = facts
    try:
        transfer = connect_gateway.retrieve_transfer(transfer_id)
    except UpstreamError:
        return [], False, True
    except connect_gateway.StripeRefused as exc:
        return ([], True, False) if exc.status == 404 else ([f"Stripe refused the look-up: {exc.stripe_message}"],
                                                           False, False)
    problems = []
    if transfer.amount != amount:
        problems.append(f"amount {transfer.amount} at Stripe != {amount}")
    if transfer.destination != destination:
        problems.append(f"destination {transfer.destination} at Stripe != {destination}")
    if transfer.transfer_group != str(payout_id):
        problems.append(f"transfer group {transfer.transfer_group!r} != payout id")
    if transfer.amount_reversed != reversed_:
        problems.append(f"reversed {transfer.amount_reversed} at Stripe != {reversed_}")
    return problems, False, False


def check_stripe(c, *, since: datetime | None, say: Callable[[str], None], workers: int = 8) -> None:
    before = c.report.total
    facts = list(_sent(since).filter(~Q(stripe_transfer_id="")).values_list(
        "payout_id", "stripe_transfer_id", "amount", "destination", "amount_reversed"))
    failed = 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for row, (problems, missing, broken) in zip(facts, pool.map(_compare, facts), strict=True):
            if missing:
                c.add("STRIPE_TRANSFER_MISSING", "payout", row[0], f"transfer {row[1]} not found at Stripe")
            elif problems:
                c.add("STRIPE_TRANSFER_MISMATCH", "payout", row[0], f"transfer {row[1]}: " + "; ".join(problems))
            failed += int(broken)
    c.report.stripe_errors += failed
    if facts:
        c.report.checked["transfers compared with Stripe"] = len(facts)
    say(f"  transfers vs Stripe: {c.report.total - before} discrepancies"
        + (f", {failed} look-ups failed" if failed else ""))
