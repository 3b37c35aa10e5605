"""`tradeline replay_webhooks`: process stored Stripe events again (operators' tool)."""

from django.core.management.base import BaseCommand, CommandError

from tradeline.payments.models import WebhookEvent
from tradeline.payments.webhooks import webhook_process


class Command(BaseCommand):
    help = (
        "Process stored Stripe webhook events again, oldest first. By default the FAILED ones "
        "(a transient error kept them from being processed) and the DEFERRED ones (refunds reported "
        "before their payment). Handlers are idempotent: replaying changes only what is still missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--status", action="append", choices=[s.value for s in WebhookEvent.Status],
                            help="Replay events with this status (repeatable; default FAILED and DEFERRED).")
        parser.add_argument("--event-id", action="append", help="Replay this event (repeatable).")
        parser.add_argument("--limit", type=int, default=500, help="At most this many events (default 500).")
        parser.add_argument("--dry-run", action="store_true", help="Only list the events.")

    def handle(self, *args, **options):
        events = WebhookEvent.objects.filter(source="stripe")
        if options["event_id"]:
            events = events.filter(event_id__in=options["event_id"])
            if not events.exists():
                raise CommandError("No stored event has that id.")
        else:
            statuses = options["status"] or [WebhookEvent.Status.FAILED, WebhookEvent.Status.DEFERRED]
            events = events.filter(status__in=statuses)
        rows = list(events.order_by("created_at")[: max(1, options["limit"])])
        total = len(rows)
        counts: dict[str, int] = {}
        for n, row in enumerate(rows, 1):
            if options["dry_run"]:
                self.stdout.write(f"  [{n}/{total}] {row.event_id} {row.event_type} {row.status}")
                continue
            try:
                outcome = webhook_process(event=row.payload, replay=True).status
            except Exception as exc:  # keep going; the event stays as it was
                outcome = f"error ({type(exc).__name__})"
            counts[outcome] = counts.get(outcome, 0) + 1
            if options["verbosity"] >= 2 or n == total or n % 50 == 0:
                self.stdout.write(f"  [{n}/{total}] {row.event_id} {row.event_type}: {outcome}")
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "nothing to do"
        self.stdout.write(self.style.SUCCESS(f"{total} event(s); {summary}"))
