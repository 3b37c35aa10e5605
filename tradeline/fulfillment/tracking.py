"""Posting status from the supplier: poll the open supplier orders, record every status change in
the status history, tell the customer once per stage and alert the admins on a supplier-side
cancellation, refund or failure (the order is flagged for review; nothing is refunded by us).

`supplier_orders_sync` reads open supplier orders (placed, not final) in batches of `include=`
ids with `modified_after` (the batch's last known change, minus an overlap), so unchanged orders
cost nothing. Each new status is one SupplierStatusEvent row: unique per supplier order + status,
so a status seen again (a second poll, two pollers at once) is a no-op and sends no second email.
The supplier is called with no transaction open; each change is written in its own short
transaction (lock order: Order, then SupplierOrder). Safe to run repeatedly and concurrently.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.html import strip_tags

from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_log
from tradeline.catalog.supplier.client import SupplierClient
from tradeline.catalog.supplier.errors import SupplierError
from tradeline.evidence.services import customer_email_send
from tradeline.fulfillment.emails import send_supplier_problem
from tradeline.fulfillment.models import SupplierOrder, SupplierStatusEvent
from tradeline.fulfillment.posting import FINAL_SUPPLIER_STATUSES, PROBLEM_STAGES, PostingStage, stage_for
from tradeline.orders.models import Order
from tradeline.orders.services import order_transition

logger = logging.getLogger(__name__)
OVERLAP = timedelta(minutes=5)  # clock skew between us and the supplier
BATCH_MAX = 100  # WooCommerce's per_page ceiling

# The customer's email for each stage (PLACED is the order confirmation, sent at placement).
STAGE_EMAILS = {
    PostingStage.AUTHORIZED_USER: ("authorized_user", "You were added as an authorized user",
                                   "You have been added as an authorized user. The card reports at its next "
                                   "statement date."),
    PostingStage.REPORTING: ("posted", "Your tradeline has posted",
                             "Your tradeline is reporting: it has been reported to the credit bureaus."),
    PostingStage.COMPLETED: ("completed", "Your tradeline order is complete",
                             "Your tradeline order is complete."),
    PostingStage.CANCELLED: ("cancelled", "A problem with your tradeline order",
                             "The card holder cancelled your tradeline. Our team is on it and will contact you; "
                             "you do not need to do anything."),
    PostingStage.REFUNDED: ("refunded", "A problem with your tradeline order",
                            "The supplier refunded your tradeline. Our team is on it and will contact you about "
                            "a replacement or a refund."),
    PostingStage.FAILED: ("failed", "A problem with your tradeline order",
                          "Your tradeline could not be placed. Our team is on it and will contact you."),
}


@dataclass(frozen=True)
class StatusChange:
    order_id: object
    stage: str | None


def _parse_time(value) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def supplier_status_record(*, supplier_order_pk, supplier_status: str, occurred_at: datetime,
                           note: str = "") -> StatusChange | None:
    """Record one supplier status (None when it was already recorded). A problem stage flags the
    order for review; the supplier order's current status is kept up to date."""
    status = (supplier_status or "").strip().lower()[:32]
    stage = stage_for(status)
    with transaction.atomic():
        row = SupplierOrder.objects.filter(pk=supplier_order_pk).values("order_id").first()
        if row is None:
            return None
        order = Order.objects.locked(row["order_id"])
        supplier = SupplierOrder.objects.locked_of_order(order.pk)
        try:
            with transaction.atomic():
                SupplierStatusEvent.objects.create(supplier_order=supplier, supplier_status=status, stage=stage or "",
                                                   occurred_at=occurred_at, note=note[:2000])
        except IntegrityError:
            return None  # seen before
        supplier.supplier_status = status
        supplier.save(update_fields=["supplier_status", "updated_at"])
        if stage in PROBLEM_STAGES:
            reason = (f"The supplier marked supplier order {supplier.supplier_order_id} as {status}: contact the "
                      "customer; refund or replace by hand (nothing was refunded automatically).")
            joined = f"{order.review_reason}\n{reason}".strip() if reason not in order.review_reason \
                else order.review_reason
            order_transition(order=order, review_reason=joined)
        activity_log(action="supplier_order.status_changed", entity=order, broker_id=order.broker_id,
                     actor_type=ActorType.SUPPLIER,
                     metadata={"order_number": order.order_number, "supplier_order_id": supplier.supplier_order_id,
                               "status": status, "stage": stage or "", "at": occurred_at.isoformat()})
    return StatusChange(order_id=order.pk, stage=stage)


def status_change_notify(change: StatusChange, *, note: str = "") -> dict[str, int]:
    """After the commit: the customer's email for the stage (once) and the admins' alert."""
    sent = {"emails": 0, "alerts": 0}
    order = Order.objects.select_related("broker").filter(pk=change.order_id).first()
    if order is None or change.stage not in STAGE_EMAILS:
        return sent
    kind, subject, headline = STAGE_EMAILS[change.stage]
    lines = [note] if note else []
    if customer_email_send(order=order, key=f"stage:{change.stage}", kind=kind,
                           subject=f"{subject} (order {order.order_number})",
                           template="evidence/email/order_update", context={"headline": headline, "lines": lines}):
        sent["emails"] += 1
    if change.stage in PROBLEM_STAGES:
        sent["alerts"] += 1
        send_supplier_problem(order_id=order.pk, stage=change.stage)
    return sent


def _latest_note(client: SupplierClient, supplier_order_id: str) -> str:
    try:
        notes = client.customer_notes(supplier_order_id)
    except SupplierError as exc:
        logger.info("supplier order %s: notes unavailable (%s)", supplier_order_id, exc.code)
        return ""
    return strip_tags(str(notes[-1].get("note") or "")).strip() if notes else ""


def supplier_orders_sync(*, batch_size: int = 50, progress=None, client: SupplierClient | None = None
                         ) -> dict[str, int]:
    """Poll every open supplier order once; returns counts."""
    say = progress or (lambda message: None)
    batch_size = max(1, min(batch_size, BATCH_MAX))
    rows = list(SupplierOrder.objects.filter(supplier_order_id__isnull=False)
                .exclude(supplier_status__in=FINAL_SUPPLIER_STATUSES)
                .order_by("placed_at").values("pk", "supplier_order_id", "supplier_status", "placed_at", "updated_at"))
    counts = {"open": len(rows), "changes": 0, "emails": 0, "alerts": 0, "errors": 0}
    say(f"{len(rows)} open supplier order(s)")
    own = client is None
    client = client or SupplierClient.from_settings()
    try:
        for start in range(0, len(rows), batch_size):
            batch = {row["supplier_order_id"]: row for row in rows[start:start + batch_size]}
            since = min(row["updated_at"] for row in batch.values()) - OVERLAP
            try:
                remote = client.list_orders(ids=list(batch), modified_after=since.astimezone(UTC).strftime(
                    "%Y-%m-%dT%H:%M:%S"))
            except SupplierError as exc:
                counts["errors"] += 1
                logger.warning("supplier order poll failed for %d order(s): %s", len(batch), exc.code)
                continue
            for found in remote:
                row = batch.get(found.id)
                if row is None or not found.status or found.status.lower() == row["supplier_status"]:
                    continue
                occurred = _parse_time(found.raw.get("date_modified_gmt")) or timezone.now()
                note = _latest_note(client, found.id)
                change = supplier_status_record(supplier_order_pk=row["pk"], supplier_status=found.status,
                                                occurred_at=occurred, note=note)
                if change is None:
                    continue
                counts["changes"] += 1
                for name, value in status_change_notify(change, note=note).items():
                    counts[name] += value
            say(f"  {min(start + batch_size, len(rows))}/{len(rows)} polled, {counts['changes']} change(s)")
    finally:
        if own:
            client.close()
    say(", ".join(f"{name} {value}" for name, value in counts.items()))
    return counts
