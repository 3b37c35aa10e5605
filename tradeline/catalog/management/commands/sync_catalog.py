"""Refresh the tradeline catalog from the supplier now."""

from django.core.management.base import BaseCommand, CommandError

from tradeline.catalog.services import catalog_sync


class Command(BaseCommand):
    help = ("Fetch the supplier's pricing (TRADELINE_API_URL) and store it in the catalog: new and changed "
            "tradelines saved, tradelines no longer offered marked unavailable, unreadable rows skipped. On "
            "failure the last good catalog is kept and the command exits with an error.")

    def handle(self, *args, **options):
        def progress(message: str) -> None:
            self.stdout.write(f"sync_catalog: {message}")
            self.stdout.flush()

        sync = catalog_sync(progress=progress)
        if sync.status != sync.Status.SUCCEEDED:
            raise CommandError(f"catalog sync failed: {sync.error}")
        seconds = (sync.finished_at - sync.created_at).total_seconds()
        self.stdout.write(self.style.SUCCESS(
            f"catalog synced in {seconds:.2f}s: {sync.rows_stored} tradelines stored, {sync.rows_skipped} skipped "
            f"of {sync.rows_received} received"))
