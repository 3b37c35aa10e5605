from bench.common import Context, Figure, pgbench_tps

TITLE = "machine baseline (pgbench TPC-B)"


def run(ctx: Context) -> list[Figure]:
    tps = pgbench_tps(ctx.database_url)
    ctx.shared["pgbench_tps"] = tps
    return [Figure("pgbench TPC-B, 4 clients, 10 s", tps, "tps")]
