"""`tradeline reconcile`: check the ledger's invariants and print every discrepancy."""

from datetime import date, datetime

from django.core.management.base import BaseCommand, CommandError

from tradeline.ledger.reconcile import reconcile_run


def _since(value: str) -> date | datetime:
    try:
        if "T" in value or " " in value:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                from datetime import UTC

                parsed = parsed.replace(tzinfo=UTC)
            return parsed
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since: {value!r} is not a date like 2026-11-01 (or 2026-11-01T12:00).") from None


class Command(BaseCommand):
    help = (
        "Check every money invariant of the ledger and print each discrepancy: per order (items, pricing, "
        "paid = supplier cost + platform net + broker earnings, refunded <= paid, states), one commission per "
        "paid broker order and none otherwise, clawbacks vs refunds and disputes, payouts vs their lines, per "
        "broker earned - clawbacks == paid out + pending, and (unless --skip-stripe) each order against Stripe's "
        "session, payment intent, charge and refunds. Reads only. Exit status: 0 when the books balance, 1 when "
        "any discrepancy is found, 2 when Stripe could not be asked for some orders (the check is incomplete)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", type=_since, default=None,
                            help="only orders created from this UTC date/time on (e.g. 2026-11-01); payouts of "
                                 "periods ending after it. Broker ledgers always cover everything.")
        parser.add_argument("--skip-stripe", action="store_true",
                            help="do not compare orders with Stripe (database checks only)")
        parser.add_argument("--stripe-workers", type=int, default=8,
                            help="concurrent Stripe look-ups (default 8)")
        parser.add_argument("--quiet", action="store_true", help="print only discrepancies and the summary line")

    def handle(self, *args, since, skip_stripe, stripe_workers, quiet, **options):
        if stripe_workers < 1:
            raise CommandError("--stripe-workers must be at least 1.")

        def progress(line: str) -> None:
            if not quiet:
                self.stdout.write(line)
                self.stdout.flush()

        def discrepancy(item) -> None:
            self.stdout.write(f"DISCREPANCY {item.line()}")

        report = reconcile_run(since=since, stripe=not skip_stripe, on_discrepancy=discrepancy, progress=progress,
                               stripe_workers=stripe_workers)
        if report.stripe_errors and int(options.get("verbosity", 1)) >= 2:
            for number, why in report.stripe_failed_orders:
                self.stdout.write(f"STRIPE LOOK-UP FAILED order {number}: {why}")
        self.stdout.write(report.summary())
        if report.total:
            raise CommandError(f"{report.total:,} discrepancies found", returncode=1)
        if report.stripe_errors:
            hint = "" if int(options.get("verbosity", 1)) >= 2 else " (-v 2 lists them)"
            raise CommandError(f"{report.stripe_errors:,} orders could not be compared with Stripe{hint}", returncode=2)
