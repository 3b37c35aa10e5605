import getpass
import secrets
import sys

from django.core.management.base import BaseCommand, CommandError

from tradeline.brokers.models import AdminRole
from tradeline.brokers.services import admin_create
from tradeline.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Create an administrator (a Django user with a role). Without --password it asks for one "
        "on a terminal, or generates and prints one with --generate-password (or when not interactive)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="login email")
        parser.add_argument("--role", default=AdminRole.ADMIN, choices=AdminRole.values,
                            help="SUPER_ADMIN, ADMIN, STAFF or SUPPORT (read-only); default ADMIN")
        parser.add_argument("--password", default=None, help="the password (avoid: it lands in shell history)")
        parser.add_argument("--generate-password", action="store_true", help="generate a password and print it")

    def handle(self, *args, **options):
        password, generated = options["password"], False
        if not password:
            if options["generate_password"] or not options.get("interactive", True) or not _is_tty(sys.stdin):
                password, generated = secrets.token_urlsafe(15), True
            else:
                password = getpass.getpass("Password: ")
                if password != getpass.getpass("Password (again): "):
                    raise CommandError("The passwords do not match.")
        try:
            user = admin_create(email=options["email"], password=password, role=options["role"])
        except ApplicationError as exc:
            detail = "; ".join(d.get("message", "") for d in exc.details) if isinstance(exc.details, list) else ""
            raise CommandError(f"{exc.message} ({exc.code}){': ' + detail if detail else ''}") from None
        self.stdout.write(self.style.SUCCESS(f"admin {user.email} created with role {options['role']}"))
        if generated:
            self.stdout.write(f"password (shown only now): {password}")


def _is_tty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
