"""`tradeline reconcile_fulfillment`: the periodic sweep (cron, e.g. every 5 minutes)."""

from django.core.management.base import BaseCommand

from tradeline.fulfillment.dispatch import fulfillment_reconcile


class Command(BaseCommand):
    help = (
        "Re-enqueue the fulfillment task of paid orders that are due for an attempt at the supplier "
        "but have no task waiting or running (lost task, crashed or stopped worker). Orders whose "
        "fulfillment FAILED are left for an admin (POST /api/orders/{id}/retry-fulfillment)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List the orders, enqueue nothing.")
        parser.add_argument("--limit", type=int, default=1000, help="At most this many orders per run (default 1000).")

    def handle(self, *args, dry_run=False, limit=1000, **options):
        verbosity = options.get("verbosity", 1)

        def progress(n, total, order):
            if verbosity >= 2 or (verbosity >= 1 and (n == total or n % 100 == 0)):
                self.stdout.write(f"  [{n}/{total}] {order.order_number} (attempts so far: {order.supplier_order.attempts})")

        orders = fulfillment_reconcile(dry_run=dry_run, limit=max(1, limit), progress=progress)
        verb = "would re-enqueue" if dry_run else "re-enqueued"
        if verbosity >= 1:
            self.stdout.write(self.style.SUCCESS(f"{verb} {len(orders)} order(s)"))
