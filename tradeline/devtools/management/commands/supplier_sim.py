"""Run the local TradelineSupply (WooCommerce REST v3) simulator."""

import json
import os

from django.core.management.base import BaseCommand, CommandError

from tradeline.devtools.supplier_sim import Faults, SupplierSimulator


class Command(BaseCommand):
    help = ("Serve a WooCommerce-compatible TradelineSupply simulator on 127.0.0.1 (pricing, orders, order search; "
            "OAuth 1.0a or Basic auth with TRADELINE_CONSUMER_KEY/SECRET from the environment). Control it at "
            "/_sim/faults, /_sim/reset, /_sim/stock, /_sim/orders.")

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8002, help="port to listen on (0 = any free port)")
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        parser.add_argument("--catalog-size", type=int, default=60, help="number of tradelines (default 60)")
        parser.add_argument("--bad-rows", type=int, default=2,
                            help="extra unreadable rows in /pricing, to exercise defensive parsing (default 2)")
        parser.add_argument("--seed", type=int, default=1, help="seed of the generated catalog (default 1)")
        parser.add_argument("--faults", default=os.environ.get("SUPPLIER_SIM_FAULTS", ""),
                            help='start with faults, JSON like \'{"status": 500, "count": 3}\' '
                                 "(or SUPPLIER_SIM_FAULTS)")
        parser.add_argument("--state", default=os.environ.get("SUPPLIER_SIM_STATE", ""),
                            help="SQLite file that keeps orders, order ids and stock across restarts "
                                 "(default SUPPLIER_SIM_STATE; empty: in memory only)")
        parser.add_argument("--verbose", action="store_true", help="log every request")
        parser.add_argument("--stage-seconds", type=float,
                            default=float(os.environ.get("SUPPLIER_SIM_STAGE_SECONDS") or 0) or None,
                            help="move placed orders to their next stage after this many seconds "
                                 "(or SUPPLIER_SIM_STAGE_SECONDS; default: only by POST /_sim/orders/<id>/status)")

    def handle(self, *args, port, host, catalog_size, bad_rows, seed, faults, verbose, state, stage_seconds=None,
               **options):
        key = os.environ.get("TRADELINE_CONSUMER_KEY", "").strip()
        secret = os.environ.get("TRADELINE_CONSUMER_SECRET", "").strip()
        if not key or not secret:
            raise CommandError("Set TRADELINE_CONSUMER_KEY and TRADELINE_CONSUMER_SECRET: the simulator accepts "
                               "only requests signed with them.")
        if catalog_size < 0 or bad_rows < 0:
            raise CommandError("--catalog-size and --bad-rows must be >= 0")
        try:
            initial = Faults.from_dict(json.loads(faults)) if faults else None
        except (ValueError, TypeError) as exc:
            raise CommandError(f"--faults: {exc}") from exc
        try:
            sim = SupplierSimulator(consumer_key=key, consumer_secret=secret, host=host, port=port,
                                    catalog_size=catalog_size, seed=seed, bad_rows=bad_rows, faults=initial,
                                    verbose=verbose, state_path=state or None, stage_seconds=stage_seconds)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from exc
        kept = f"; state in {state}" if state else ""
        self.stdout.write(f"supplier simulator: {sim.url} ({catalog_size} tradelines, seed {seed}{kept}); "
                          "Ctrl-C stops it",
                          ending="\n")
        self.stdout.flush()
        try:
            sim.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            sim.httpd.server_close()
