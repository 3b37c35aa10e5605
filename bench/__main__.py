"""`make bench`: every performance figure in one run, side by side, on PostgreSQL.

Each module in bench/sections/ defines `TITLE` and `run(ctx) -> list[Figure]`. Select some with
`python -m bench catalog payouts`; results are also written to var/bench-results.json.
"""

import importlib
import json
import os
import pkgutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/tradeline_bench"


def _prepare_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def main(argv: list[str]) -> int:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Not "development": the figures must not depend on what a demo left in var/.env (Redis, Stripe URL).
    os.environ.setdefault("TRADELINE_ENV", "test")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    _prepare_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    from bench.common import Context

    call_command("migrate", interactive=False, verbosity=0)
    ctx = Context(database_url=url)
    machine = f"{os.cpu_count()} CPUs, load average {' / '.join(f'{x:.2f}' for x in os.getloadavg())} at start"
    print(f"bench on {url.rsplit('@', 1)[-1]} ({machine})", flush=True)
    run_started = time.perf_counter()
    wanted = set(argv)
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent / "sections")]))
    rows = []
    for name in names:
        if wanted and name not in wanted:
            continue
        module = importlib.import_module(f"bench.sections.{name}")
        print(f"== {module.TITLE} ==", flush=True)
        started = time.perf_counter()
        try:
            figures = module.run(ctx)
        except Exception as exc:  # report and go on: one broken section must not hide the others
            print(f"   FAILED: {type(exc).__name__}: {exc}", flush=True)
            figures = []
        for fig in figures:
            fig.section = module.TITLE
            rows.append(fig)
            print(f"   {fig.line()}", flush=True)
        print(f"   ({time.perf_counter() - started:.1f}s)", flush=True)

    print(f"\n== all figures ({machine}; {time.perf_counter() - run_started:.0f}s) ==")
    width = max((len(r.name) for r in rows), default=10)
    section = None
    for r in rows:
        if r.section != section:
            section = r.section
            print(f"-- {section}")
        print(r.line(width))
    missed = [r.name for r in rows if r.ok is False]
    print(f"\n{sum(r.ok is True for r in rows)} targets met, {len(missed)} missed" + (f": {', '.join(missed)}" if missed else ""))
    out = ROOT / "var" / "bench-results.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps([r.as_dict() for r in rows], indent=2))
    print(f"\nresults written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
