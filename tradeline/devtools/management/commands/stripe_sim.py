"""`tradeline stripe_sim`: run the local Stripe-compatible server in the foreground."""

import logging
import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tradeline.devtools.stripe_sim import StripeSim

# Failed deliveries are retried like Stripe does, but bounded and quicker (seconds, not hours).
RETRY_DELAYS = (5.0, 30.0, 120.0)


class Command(BaseCommand):
    help = (
        "Run the local Stripe-compatible server (API subset, hosted checkout page, signed webhooks). "
        "It accepts the key in STRIPE_SECRET_KEY (sk_test_...) and signs events with STRIPE_WEBHOOK_SECRET. "
        "Point the app at it with STRIPE_API_BASE=http://127.0.0.1:<port>."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8001, help="port to listen on (0: any free port)")
        parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
        parser.add_argument("--webhook-url", default=os.environ.get("STRIPE_SIM_WEBHOOK_URL", ""),
                            help="where to POST signed events, e.g. http://127.0.0.1:8000/api/orders/webhook/stripe "
                                 "(default STRIPE_SIM_WEBHOOK_URL; empty: events are only recorded)")
        parser.add_argument("--expire-every", type=float, default=5.0,
                            help="seconds between sweeps that expire sessions past expires_at (0: never)")
        parser.add_argument("--delivery-timeout", type=float, default=10.0,
                            help="timeout of one webhook delivery, in seconds")
        parser.add_argument("--state", default=os.environ.get("STRIPE_SIM_STATE", ""),
                            help="SQLite file that keeps sessions, payments and events across restarts "
                                 "(default STRIPE_SIM_STATE; empty: in memory only)")

    def handle(self, *args, port, host, webhook_url, expire_every, delivery_timeout, state, **options):
        secret_key = settings.STRIPE_SECRET_KEY
        webhook_secret = settings.STRIPE_WEBHOOK_SECRET
        if not secret_key.startswith("sk_test_"):
            raise CommandError("Set STRIPE_SECRET_KEY to a test key (sk_test_...): the local server accepts it "
                               "as the only valid API key.")
        if not webhook_secret:
            raise CommandError("Set STRIPE_WEBHOOK_SECRET (whsec_...): events are signed with it.")
        if not 0 <= port <= 65535:
            raise CommandError("--port must be between 0 and 65535.")
        logging.getLogger("tradeline.stripe_sim").setLevel(logging.INFO)
        logging.getLogger("tradeline.devtools.stripe_sim.delivery").setLevel(logging.INFO)
        try:
            sim = StripeSim(secret_key=secret_key, webhook_secret=webhook_secret, webhook_url=webhook_url or None,
                            host=host, port=port, delivery_timeout=delivery_timeout, retry_delays=RETRY_DELAYS,
                            expire_interval=expire_every or None, log_requests=True, state_path=state or None)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        self.stdout.write(
            f"Local Stripe server on {sim.url} (STRIPE_API_BASE={sim.url})\n"
            f"  webhooks -> {webhook_url or '(none: events are recorded only; set with POST /_sim/webhook)'}\n"
            f"  state: {state or '(in memory)'}\n"
            f"  failed deliveries retried after {', '.join(f'{d:g}s' for d in RETRY_DELAYS)}\n"
            "  test controls under /_sim/ (see tradeline/devtools/stripe_sim/controls.py). Ctrl-C stops it."
        )
        self.stdout.flush()
        try:
            sim.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("\nstopping the local Stripe server")
