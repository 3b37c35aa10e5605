"""`tradeline rotate_tax_keys`: re-encrypt every stored TIN with the newest TAX_ID_ENCRYPTION_KEYS key."""

from django.core.management.base import BaseCommand, CommandError

from tradeline.core.errors import ApplicationError
from tradeline.payouts.services.tax import tax_keys_rotate


class Command(BaseCommand):
    help = ("Re-encrypt brokers' TINs with the first key of TAX_ID_ENCRYPTION_KEYS. Rotation: put the new key "
            "first (keep the old ones after it), deploy, run this, then drop the old keys.")

    def handle(self, *args, **options):
        try:
            n = tax_keys_rotate()
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} ({exc.code})") from None
        self.stdout.write(f"{n} TINs re-encrypted with the newest key.")
