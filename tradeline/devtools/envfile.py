"""`var/.env`: the running demo's configuration, for every other `tradeline` command in development.

`tradeline run_demo` writes it before starting anything; config/settings/base.py loads it in
development for the variables the environment leaves unset. So `tradeline reconcile`,
`tradeline create_payouts`, `tradeline shell` … in a second terminal see the same local Stripe
server, supplier simulator, keys and database as the demo. The file holds local-only secrets:
it is written with mode 0600 under var/ (ignored by git).
"""

import os
from pathlib import Path

# Values of the demo's environment that are passwords of demo accounts, not configuration.
_NOT_CONFIGURATION = ("DEMO_",)
# Chosen by whoever starts the demo; kept so that other commands use the same database and cache.
_PASSED_THROUGH = ("DATABASE_URL", "REDIS_URL", "CACHE_KEY_PREFIX", "DB_CONN_MAX_AGE")

HEADER = ("# Written by `tradeline run_demo` on every start: the demo's configuration, read by every\n"
          "# `tradeline` command in development for the variables the environment does not set.\n"
          "# Local-only secrets: never copy this file elsewhere. Delete it to forget them.\n")


def env_file_path(var_dir: Path) -> Path:
    return Path(var_dir) / ".env"


def env_file_values(demo_env: dict[str, str], environ: dict[str, str] | None = None) -> dict[str, str]:
    environ = os.environ if environ is None else environ
    values = {name: value for name, value in demo_env.items() if not name.startswith(_NOT_CONFIGURATION)}
    for name in _PASSED_THROUGH:
        if environ.get(name):
            values[name] = environ[name]
    return values


def write_env_file(var_dir: Path, demo_env: dict[str, str], environ: dict[str, str] | None = None) -> Path:
    path = env_file_path(var_dir)
    values = env_file_values(demo_env, environ)
    lines = [HEADER] + [f"{name}={_quoted(value)}\n" for name, value in sorted(values.items())]
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.write_text("".join(lines), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)
    return path


def _quoted(value: str) -> str:
    return f'"{value}"' if any(ch in value for ch in " #'\"") else value
