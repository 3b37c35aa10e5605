"""Start the whole local shop: web, task worker, local Stripe server, supplier simulator."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandError

from tradeline.devtools.demo import credentials_path, demo_environment


class Command(BaseCommand):
    help = "Run the demo shop on 127.0.0.1 (Ctrl-C stops everything)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--no-seed", action="store_true", help="skip migrate/seed")

    def handle(self, *args, port: int, no_seed: bool, **options):
        env = {**os.environ, **demo_environment(port, Path(settings.VAR_DIR))}
        exe = [sys.executable, "-m", "tradeline"]
        available = get_commands()
        services: list[tuple[str, list[str]]] = []
        if "stripe_sim" in available:
            services.append(("stripe", exe + ["stripe_sim", "--port", env["STRIPE_API_BASE"].rsplit(":", 1)[1],
                                             "--webhook-url", env["STRIPE_SIM_WEBHOOK_URL"]]))
        if "supplier_sim" in available:
            services.append(("supplier", exe + ["supplier_sim", "--port",
                                                 env["TRADELINE_API_URL"].split(":")[2].split("/")[0]]))
        services.append(("worker", exe + ["db_worker", "--queue-name", "*", "--interval", "0.5", "--no-reload"]))
        services.append(("web", exe + ["runserver", f"127.0.0.1:{port}", "--noreload"]))

        procs: list[tuple[str, subprocess.Popen]] = []

        def stop(*_):
            for name, proc in reversed(procs):
                if proc.poll() is None:
                    proc.terminate()
            for name, proc in procs:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()

        signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
        try:
            # Simulators first: seeding syncs the catalog from the supplier simulator.
            for name, cmd in services:
                if name in ("stripe", "supplier"):
                    procs.append((name, subprocess.Popen(cmd, env=env)))
            time.sleep(1.0)
            if not no_seed:
                result = subprocess.run(exe + ["demo_setup"], env=env)
                if result.returncode != 0:
                    raise CommandError("demo setup failed (see above)")
            for name, cmd in services:
                if name not in ("stripe", "supplier"):
                    procs.append((name, subprocess.Popen(cmd, env=env)))
            self._announce(port)
            while True:
                for name, proc in procs:
                    if proc.poll() is not None:
                        raise CommandError(f"{name} exited with code {proc.returncode}; stopping the demo")
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("\nstopping ...")
        finally:
            stop()

    def _announce(self, port: int) -> None:
        path = credentials_path()
        creds = json.loads(path.read_text()) if path.exists() else {}
        lines = ["", f"Tradeline Marketplace demo is running on http://127.0.0.1:{port}"]
        for name, url in creds.get("urls", {}).items():
            lines.append(f"  {name:<18} {url}")
        admin = creds.get("admin", {})
        if admin:
            lines.append(f"  admin login        {admin['email']} / {admin['password']}")
        broker = creds.get("broker", {})
        if broker:
            lines.append(f"  broker portal      {broker.get('email')} / {broker.get('password')}")
            lines.append(f"  publishable key    {broker.get('publishable_key')}")
        lines.append(f"  all credentials    {path}")
        lines.append("Ctrl-C stops everything.")
        self.stdout.write("\n".join(lines))
