"""Cancel PENDING orders whose Stripe checkout expired without us hearing about it (cron, every 15 min)."""

from django.core.management.base import BaseCommand, CommandError

from tradeline.payments.services.checkout import order_expire_stale_checkouts


class Command(BaseCommand):
    help = (
        "Cancel PENDING orders whose checkout expired more than --grace-seconds ago: sessions Stripe "
        "reports expired, and checkouts that never reached Stripe. Paid, open or payment-link orders "
        "are left alone. Safe to run repeatedly."
    )

    def add_arguments(self, parser):
        parser.add_argument("--grace-seconds", type=int, default=600,
                            help="how long after the checkout's expiry to wait (default 600)")
        parser.add_argument("--limit", type=int, default=500, help="at most this many orders per run (default 500)")
        parser.add_argument("--dry-run", action="store_true", help="report what would be cancelled, change nothing")

    def handle(self, *args, grace_seconds, limit, dry_run, **options):
        if grace_seconds < 0 or limit < 1:
            raise CommandError("--grace-seconds must be >= 0 and --limit >= 1")
        verbosity = options.get("verbosity", 1)

        def progress(message: str) -> None:
            if verbosity >= 1:
                self.stdout.write(message)

        counts = order_expire_stale_checkouts(grace_seconds=grace_seconds, limit=limit, dry_run=dry_run,
                                              progress=progress)
        if counts["errors"]:
            self.stderr.write(f"{counts['errors']} order(s) could not be checked at Stripe; they are retried next run")
