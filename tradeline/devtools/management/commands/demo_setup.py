import os
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from tradeline.devtools.demo import credentials_path, demo_environment, seed_demo


class Command(BaseCommand):
    help = ("Migrate and seed the local demo shop (demo admin, ACTIVE demo broker with keys, demo page, catalog, "
            "history); writes var/demo-credentials.json. `tradeline run_demo` runs it with the simulators up; "
            "run alone, the catalog sync needs the supplier simulator at TRADELINE_API_URL.")

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000),
                            help="port of the web app the URLs point at (default $PORT or 8000)")

    def handle(self, *args, port: int, **options):
        # Values from the environment (as run_demo passes them) win over the computed demo defaults.
        env = {**demo_environment(port, Path(settings.VAR_DIR)), **os.environ}
        call_command("migrate", interactive=False, verbosity=0)
        seed_demo(env, progress=lambda line: (self.stdout.write(line), self.stdout.flush()))
        self.stdout.write(f"demo data ready; credentials in {credentials_path()}")
