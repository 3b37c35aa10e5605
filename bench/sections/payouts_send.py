"""Month-end payout run with sending: `create_payouts --month 2026-10 --send` for 1,000 brokers,
each with an enabled Stripe Express account on the local Stripe server, against the same run
without `--send` on the same data. Target: at most 2x the run without sending.

The data is the payouts section's (1,000,000 commissions by default; BENCH_PAYOUTS_SEND_SIZE to
change it), generated in SQL, twice (once per run). The local Stripe server runs in this process on
a port of BENCH_STRIPE_PORTS (default 8900-8999); the command runs in a child process pointed at it,
so the figures include Django's start-up, the 1,000 claims, HTTP calls and records. Afterwards
every payout must be COMPLETED with its own transfer, and Stripe must hold exactly 1,000 transfers
whose amounts add up to the payouts' totals.
"""

import os
import secrets
import socket
import subprocess
import sys
import time

from django.db import connection

from bench.common import Context, Figure
from bench.sections import payouts as base

TITLE = "payouts sent with Stripe Connect (month-end run, PostgreSQL, local Stripe server)"
SIZE = int(os.environ.get("BENCH_PAYOUTS_SEND_SIZE", "1000000"))
PORTS = os.environ.get("BENCH_STRIPE_PORTS", "8900-8999")
TARGET_RATIO = 2.0

PROBE = (
    "import resource, sys\n"
    "from tradeline.__main__ import main\n"
    "sys.argv = ['tradeline', 'create_payouts', '--month', '2026-10', '--verbosity', '0'] + sys.argv[1:]\n"
    "main()\n"
)


def _port() -> int:
    low, high = (int(x) for x in PORTS.split("-"))
    for port in range(low, high + 1):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"no free port in {PORTS}")


def _accounts(sim) -> None:
    """An enabled Express account on the local Stripe server for every bench broker."""
    from tradeline.brokers.models import Broker
    from tradeline.payouts.models import ConnectedAccount

    ConnectedAccount.objects.filter(broker__email__startswith="bench-payouts-").delete()
    rows = []
    for broker_id in Broker.objects.filter(email__startswith="bench-payouts-").values_list("pk", flat=True):
        account = sim.connect.create_account({"type": "express", "capabilities": {"transfers": {"requested": "true"}}},
                                             {})
        sim.connect.complete_onboarding(account["id"])
        rows.append(ConnectedAccount(broker_id=broker_id, stripe_account_id=account["id"], details_submitted=True,
                                     payouts_enabled=True, transfers_active=True))
    ConnectedAccount.objects.bulk_create(rows)


def _run(sim, *args: str) -> float:
    env = dict(os.environ, LOG_LEVEL="WARNING", STRIPE_API_BASE=sim.url, STRIPE_SECRET_KEY=sim.secret_key,
               STRIPE_WEBHOOK_SECRET=sim.webhook_secret, EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"create_payouts {' '.join(args)} failed: {result.stderr[-2000:]}")
    return seconds


def _check_sent(sim) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), coalesce(sum(total_amount), 0), count(*) FILTER (WHERE status = 'COMPLETED' "
                       "AND transaction_id LIKE 'tr_%%') FROM payouts_payout WHERE period_start = '2026-10-01'")
        payouts, total, completed = cursor.fetchone()
    with sim.connect.lock:
        transfers = list(sim.connect.transfers.values())
    if completed != payouts or len(transfers) != payouts or sum(t["amount"] for t in transfers) != total:
        raise RuntimeError(f"{payouts} payouts, {completed} completed with a transfer, {len(transfers)} transfers "
                           f"for {sum(t['amount'] for t in transfers)} cents against {total}")
    return payouts


def run(ctx: Context) -> list[Figure]:
    from tradeline.devtools.stripe_sim import StripeSim

    if connection.vendor != "postgresql":
        raise RuntimeError("the payouts bench needs PostgreSQL")
    base._brokers()
    sim = StripeSim(secret_key=f"sk_test_{secrets.token_hex(12)}", webhook_secret=f"whsec_{secrets.token_hex(16)}",
                    port=_port()).start()
    try:
        _accounts(sim)
        base._generate(SIZE)
        plain = _run(sim)
        base._generate(SIZE)
        sim.connect.reset()
        sim.connect.available = 10**14  # the platform balance covers the whole month
        _accounts(sim)
        sending = _run(sim, "--send")
        sent = _check_sent(sim)
    finally:
        sim.stop()
    print(f"   {sent} payouts sent, one transfer each, totals verified", flush=True)
    label = f"{SIZE:,} commissions, {base.BROKERS:,} brokers"
    ratio = sending / plain
    return [
        Figure(f"month-end run without sending, {label}", plain, "s"),
        Figure(f"month-end run with --send, {label}", sending, "s"),
        Figure("with --send / without", ratio, "x", target=f"<= {TARGET_RATIO:.0f} x", ok=ratio <= TARGET_RATIO),
    ]
