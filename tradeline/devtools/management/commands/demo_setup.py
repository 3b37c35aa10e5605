import os

from django.core.management import call_command
from django.core.management.base import BaseCommand

from tradeline.devtools.demo import credentials_path, seed_demo


class Command(BaseCommand):
    help = "Migrate and seed the local demo shop; writes var/demo-credentials.json. Run by run_demo."

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        seed_demo(dict(os.environ))
        self.stdout.write(f"demo data ready; credentials in {credentials_path()}")
