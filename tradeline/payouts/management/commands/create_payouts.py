"""`tradeline create_payouts --month 2026-10 [--broker ID] [--dry-run] [--send]`: the month-end payout run."""

import re
import uuid

from django.core.management.base import BaseCommand, CommandError

from tradeline.core.errors import ApplicationError
from tradeline.core.money import format_usd
from tradeline.payouts.services import payout_run_month, payouts_send_all


def parse_month(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise CommandError(f"--month must look like 2026-10, not {text!r}")
    return int(match.group(1)), int(match.group(2))


class Command(BaseCommand):
    help = (
        "Create the monthly broker payouts for a UTC calendar month that has ended: every payable "
        "commission not yet paid out (earlier leftovers included) minus open clawbacks. Brokers below "
        "PAYOUT_MINIMUM_CENTS carry over. Safe to run again: a broker's payout for a month is created once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="the month to pay out, YYYY-MM (UTC)")
        parser.add_argument("--broker", help="only this broker (id)")
        parser.add_argument("--dry-run", action="store_true", help="show what would be paid; write nothing")
        parser.add_argument("--send", action="store_true",
                            help="then send every PENDING payout of the month whose broker has Stripe payouts "
                                 "enabled (one Connect transfer each); the others stay PENDING for a manual transfer")

    def handle(self, *args, month, broker=None, dry_run=False, send=False, **options):
        year, month_number = parse_month(month)
        if broker is not None:
            try:
                broker = uuid.UUID(broker)
            except ValueError:
                raise CommandError(f"--broker must be a broker id (UUID), not {broker!r}") from None
        verbose = options.get("verbosity", 1) >= 1

        def progress(line: str) -> None:
            if verbose:
                self.stderr.write(f"  {line}")

        try:
            results = payout_run_month(year=year, month=month_number, broker_id=broker, dry_run=dry_run,
                                       progress=progress)
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} ({exc.code})") from None
        title = f"Payouts for {year:04d}-{month_number:02d} (UTC)" + (" — dry run, nothing written" if dry_run else "")
        self.stdout.write(title)
        if not results:
            self.stdout.write("No broker has anything to pay out.")
            return
        header = f"{'broker':<32} {'orders':>7} {'adjust.':>7} {'share':>14} {'markup':>14} {'adjustments':>14} " \
                 f"{'total':>14}  outcome"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        outcomes = {"created": "would be created" if dry_run else "created", "exists": "already exists",
                    "below_minimum": "below minimum, carried over", "nothing": "nothing payable"}
        paid = 0
        for r in results:
            if r.outcome in ("created", "exists"):
                paid += r.total_amount
            self.stdout.write(
                f"{r.broker_name[:32]:<32} {r.commission_count:>7} {r.adjustment_count:>7} "
                f"{format_usd(r.total_revenue_share):>14} {format_usd(r.total_markup):>14} "
                f"{format_usd(r.total_adjustments):>14} {format_usd(r.total_amount):>14}  {outcomes[r.outcome]}"
            )
        created = sum(1 for r in results if r.outcome == "created")
        self.stdout.write("-" * len(header))
        self.stdout.write(f"{created} payouts {'would be ' if dry_run else ''}created; "
                          f"{format_usd(paid)} in live payouts for this month")
        if send and not dry_run:
            pending = [r.payout.pk for r in results
                       if r.payout is not None and r.payout.status == "PENDING" and r.outcome in ("created", "exists")]
            counts = payouts_send_all(payout_ids=pending, progress=progress)
            self.stdout.write(f"Sent with Stripe: {counts['sent']} sent, {counts['already_sent']} already sent, "
                              f"{counts['declined']} declined, {counts['unknown']} no answer (run --send again), "
                              f"{counts['manual']} left for a manual transfer")
