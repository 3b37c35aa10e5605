"""Remove an admin's two-factor devices (lost phone and recovery codes): they enrol again at the next sign-in."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tradeline.brokers.twofactor import two_factor_reset


class Command(BaseCommand):
    help = "Remove an admin's authenticator and recovery codes; the admin enrols again at the next sign-in."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username__iexact=options["email"].strip()).first()
        if user is None:
            raise CommandError("No admin with this email.")
        two_factor_reset(user=user, actor_user=None)
        self.stdout.write(f"two-factor devices of {user.get_username()} removed")
