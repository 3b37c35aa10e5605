"""Start the whole local shop: web, task worker, local Stripe server, supplier simulator.

Order: simulators first (seeding syncs the catalog from the supplier simulator), wait until they
answer, seed (demo_setup), then the task worker and the web server; print the URLs and the
credentials once the web server answers. Ctrl-C (or SIGTERM) stops every child; a child that
exits on its own stops the rest with a message naming it.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

from tradeline.devtools.simstore import demo_state_path, forget_demo_world
from tradeline.devtools.demo import STRIPE_SIM_PORT_OFFSET, SUPPLIER_SIM_PORT_OFFSET, credentials_path, demo_environment
from tradeline.devtools.envfile import write_env_file

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class Command(BaseCommand):
    help = ("Run the demo shop on 127.0.0.1: web on --port (default $PORT or 8000), task worker, local Stripe "
            "server on port+1, supplier simulator on port+2. Seeds a demo admin, an ACTIVE demo broker and the "
            "demo page, writes var/demo-credentials.json. Ctrl-C stops everything.")

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000),
                            help="port of the web app (default $PORT or 8000)")
        parser.add_argument("--no-seed", action="store_true", help="skip migrate/seed (reuse the existing data)")
        parser.add_argument("--fresh", action="store_true",
                            help="start over: forget the simulators' saved world (var/*_sim.sqlite3) and empty "
                                 "the shop's database before seeding (make run FRESH=1)")

    def handle(self, *args, port: int, no_seed: bool, fresh: bool = False, **options):
        if not 1024 <= port <= 65533:
            raise CommandError("--port must be between 1024 and 65533 (the simulators use port+1 and port+2).")
        ports = {"web": port, "stripe": port + STRIPE_SIM_PORT_OFFSET, "supplier": port + SUPPLIER_SIM_PORT_OFFSET}
        busy = [f"{name} port {number}" for name, number in ports.items() if not _port_free(number)]
        if busy:
            raise CommandError(f"{', '.join(busy)} already in use (another demo running?). "
                               f"Stop it, or pick other ports: PORT={port + 10} make run")

        var_dir = Path(settings.VAR_DIR)
        if fresh:  # the shop's orders and the simulators' world go together (supplier order ids, sessions)
            forgotten = forget_demo_world(var_dir)
            call_command("flush", interactive=False, verbosity=0)
            self.stdout.write(f"starting over: database emptied, {', '.join(forgotten) or 'no saved simulator state'}"
                              " removed")
        demo_env = demo_environment(port, var_dir)
        env_file = write_env_file(var_dir, demo_env)
        env = {**os.environ, **demo_env, "PYTHONUNBUFFERED": "1"}
        exe = [sys.executable, "-m", "tradeline"]
        available = get_commands()
        simulators: list[tuple[str, list[str], int]] = []
        if "stripe_sim" in available:
            simulators.append(("stripe", exe + ["stripe_sim", "--port", str(ports["stripe"]),
                                                "--webhook-url", env["STRIPE_SIM_WEBHOOK_URL"],
                                                "--state", str(demo_state_path(var_dir, "stripe"))], ports["stripe"]))
        if "supplier_sim" in available:
            simulators.append(("supplier", exe + ["supplier_sim", "--port", str(ports["supplier"]), "--state",
                                                  str(demo_state_path(var_dir, "supplier"))], ports["supplier"]))
        services = [
            ("worker", exe + ["db_worker", "--queue-name", "*", "--interval", "0.5", "--no-reload"]),
            ("web", exe + ["runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"]),
        ]

        procs: list[tuple[str, subprocess.Popen]] = []
        stopping = False

        def stop() -> None:
            for signum in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C does not cut the clean-up short
                signal.signal(signum, signal.SIG_IGN)
            for _, proc in reversed(procs):
                if proc.poll() is None:
                    proc.terminate()
            deadline = time.monotonic() + STOP_TIMEOUT
            for name, proc in procs:
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    self.stderr.write(f"{name} did not stop in {STOP_TIMEOUT:g}s; killing it")
                    proc.kill()
                    proc.wait()

        def on_signal(signum, _frame):
            raise StopRequested(signal.Signals(signum).name)

        # Both set explicitly: a shell script that starts `make run &` leaves SIGINT ignored in it
        # (its children install their own handler and would stop first, looking like a crash).
        previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
        try:
            for name, cmd, sim_port in simulators:
                procs.append((name, subprocess.Popen(cmd, env=env)))
            for name, cmd, sim_port in simulators:
                self._wait_for_port(name, sim_port, procs)
            if not no_seed:
                self.stdout.write("seeding the demo data ...")
                result = subprocess.run(exe + ["demo_setup"], env=env)
                if result.returncode != 0:
                    raise CommandError("demo setup failed (see the messages above); everything is stopped")
            for name, cmd in services:
                procs.append((name, subprocess.Popen(cmd, env=env)))
            self._wait_for_http(f"http://127.0.0.1:{port}/health", "web", procs)
            self._wait_for_tasks(procs)
            self._announce(port, env_file)
            while True:
                for name, proc in procs:
                    if proc.poll() is not None:
                        raise CommandError(f"{name} exited with code {proc.returncode}; stopping the demo "
                                           "(see its messages above)")
                time.sleep(0.5)
        except (KeyboardInterrupt, StopRequested) as exc:
            stopping = True
            why = f"{exc.args[0]}" if isinstance(exc, StopRequested) else "SIGINT"
            self.stdout.write(f"\nthe demo was asked to stop ({why}); stopping every process ...")
        finally:
            stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if stopping:
                self.stdout.write("stopped.")

    # --- readiness ---------------------------------------------------------------------------------

    def _check_alive(self, procs) -> None:
        for name, proc in procs:
            if proc.poll() is not None:
                raise CommandError(f"{name} exited with code {proc.returncode} while starting; stopping the demo")

    def _wait_for_port(self, name: str, port: int, procs) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            self._check_alive(procs)
            if not _port_free(port, connect=True):
                return
            time.sleep(0.1)
        raise CommandError(f"{name} did not start listening on port {port} within {READY_TIMEOUT:g}s")

    def _wait_for_http(self, url: str, name: str, procs) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            self._check_alive(procs)
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own local URL
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise CommandError(f"{name} did not answer {url} within {READY_TIMEOUT:g}s")

    def _wait_for_tasks(self, procs) -> None:
        """Let the worker finish the tasks the seed enqueued (their log lines would bury the banner)."""
        try:
            from django_tasks_db.models import DBTaskResult
        except ImportError:
            return
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            self._check_alive(procs)
            try:
                busy = DBTaskResult.objects.ready().exists() or DBTaskResult.objects.running().exists()
            except Exception:  # another task backend or database: nothing to wait for
                return
            if not busy:
                time.sleep(0.5)  # their last lines reach the terminal
                return
            time.sleep(0.3)

    # --- output ------------------------------------------------------------------------------------

    def _announce(self, port: int, env_file: Path) -> None:
        path = credentials_path()
        creds = json.loads(path.read_text()) if path.exists() else {}
        base = f"http://127.0.0.1:{port}"
        urls = creds.get("urls", {})
        lines = ["", "=" * 72, f"Tradeline Marketplace demo is running on {base}", "=" * 72,
                 f"  Demo shop (widget)   {urls.get('demo_shop', base + '/demo/')}",
                 f"  Admin dashboard      {urls.get('admin', base + '/admin/')}",
                 f"  Broker portal        {urls.get('broker_portal', base + '/portal/')}",
                 f"  API docs             {urls.get('api_docs', base + '/api/docs')}",
                 f"  Local Stripe         {urls.get('stripe_api_base', '')}",
                 f"  Supplier simulator   {urls.get('supplier_api_url', '')}"]
        admin = creds.get("admin", {})
        if admin:
            lines.append(f"  Admin login          {admin.get('email')} / {admin.get('password')}")
        broker = creds.get("broker", {})
        if broker:
            lines.append(f"  Broker login         {broker.get('email')} / {broker.get('password')}")
            lines.append(f"  Publishable key      {broker.get('publishable_key')}")
            lines += [f"  Note                 {note}" for note in broker.get("notes", [])]
        lines += [f"  All credentials      {path}",
                  f"  Configuration        {env_file} (read by every `tradeline` command in this checkout)",
                  "Open the demo shop, add a tradeline, Buy now, then Pay on the local Stripe page.",
                  "Ctrl-C stops everything.", ""]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()


class StopRequested(Exception):
    """SIGINT or SIGTERM reached run_demo: stop every child and say so."""


def _port_free(port: int, *, connect: bool = False) -> bool:
    """With connect=False: nobody listens and we could bind. With connect=True: True while nothing answers."""
    if connect:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            return sock.connect_ex(("127.0.0.1", port)) != 0
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
