"""`tradeline refund_excess_payments`: the periodic sweep of excess payments (cron, e.g. every 10 minutes)."""

from django.core.management.base import BaseCommand

from tradeline.payments.services.excess_queue import excess_refund_sweep


class Command(BaseCommand):
    help = ("Re-enqueue the refund task of every excess payment (money beyond an order's paying payment) "
            "that is not refunded yet and has no refund task waiting or running.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List the payments, enqueue nothing.")
        parser.add_argument("--limit", type=int, default=500, help="At most this many payments per run (default 500).")

    def handle(self, *args, dry_run=False, limit=500, **options):
        picked = excess_refund_sweep(limit=max(1, limit), dry_run=dry_run)
        if options.get("verbosity", 1) >= 1:
            for payment_id in picked:
                self.stdout.write(f"  excess payment {payment_id}")
            verb = "would re-enqueue" if dry_run else "re-enqueued"
            self.stdout.write(self.style.SUCCESS(f"{verb} {len(picked)} excess payment refund(s)"))
