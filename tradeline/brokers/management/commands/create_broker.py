from django.core.management.base import BaseCommand, CommandError

from tradeline.brokers.services import broker_onboard
from tradeline.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Create a broker with its publishable and secret API keys. The keys are printed once and "
        "stored only as hashes: copy them now. The broker is PENDING unless --active is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="contact name")
        parser.add_argument("--email", required=True, help="broker email (unique)")
        parser.add_argument("--business-name", default="", help="company name shown to customers")
        parser.add_argument("--website", default="", help="https://... (its origin may call the API from browsers)")
        parser.add_argument("--share", default=None, help="revenue share percent (BROKER_SHARE_MIN..MAX)")
        parser.add_argument("--active", action="store_true", help="approve at once (ACTIVE)")

    def handle(self, *args, **options):
        try:
            broker, issued = broker_onboard(
                name=options["name"], email=options["email"], business_name=options["business_name"],
                website=options["website"], revenue_share_percent=options["share"], active=options["active"],
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} ({exc.code})") from None
        self.stdout.write(self.style.SUCCESS(f"broker {broker.pk} created: {broker.email}, {broker.status}, "
                                             f"share {broker.revenue_share_percent} %"))
        self.stdout.write("Keys (shown only now):")
        self.stdout.write(f"  publishable key: {issued['publishable_key']}")
        self.stdout.write(f"  secret key:      {issued['secret_key']}")
