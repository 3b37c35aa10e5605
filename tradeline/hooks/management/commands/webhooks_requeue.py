"""Enqueue webhook deliveries that are due but have no task (e.g. after a worker crash)."""

from django.core.management.base import BaseCommand

from tradeline.hooks.services import webhook_requeue_due


class Command(BaseCommand):
    help = "Enqueue every pending webhook delivery whose next attempt is due."

    def handle(self, *args, **options):
        count = webhook_requeue_due()
        self.stdout.write(f"{count} webhook deliveries enqueued")
