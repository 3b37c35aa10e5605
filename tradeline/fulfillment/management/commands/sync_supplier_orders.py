"""`tradeline sync_supplier_orders`: poll the supplier for the posting status of open orders
(cron, e.g. every 15 minutes; docs/deployment.md)."""

from django.core.management.base import BaseCommand, CommandError

from tradeline.catalog.supplier.errors import SupplierError
from tradeline.fulfillment.tracking import supplier_orders_sync


class Command(BaseCommand):
    help = ("Read the status of every open supplier order (include= batches, modified_after), record each "
            "change in the status history, email the customer once per stage and alert the admins on a "
            "supplier-side cancellation, refund or failure. Prints a progress line per batch.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=50, help="Orders per supplier request (1-100).")

    def handle(self, *args, batch_size=50, **options):
        verbosity = options.get("verbosity", 1)
        try:
            counts = supplier_orders_sync(batch_size=batch_size,
                                          progress=(lambda line: self.stdout.write(line)) if verbosity >= 1 else None)
        except SupplierError as exc:
            raise CommandError(f"The supplier is not reachable or not configured: {exc.message}") from exc
        if counts["errors"]:
            self.stderr.write(f"{counts['errors']} batch(es) failed; they are polled again on the next run")
