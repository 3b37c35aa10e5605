"""`tradeline run_demo` as a process: the configuration it leaves for other commands, and how it stops.

One real start (web, worker, both simulators; no seed) in a scratch var/ directory, started the way a
shell script starts `make run &`: with SIGINT ignored.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.settings.env import parse_env_file


def _ports_free(base: int) -> bool:
    for port in (base, base + 1, base + 2):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def _free_base_port() -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port < 65000 and _ports_free(port):
            return port
    raise AssertionError("no three free ports in a row")


def _dev_env(var_dir: Path) -> dict[str, str]:
    drop = {"DATABASE_URL", "REDIS_URL", "STRIPE_API_BASE", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET",
            "TRADELINE_API_URL", "TRADELINE_CONSUMER_KEY", "TRADELINE_CONSUMER_SECRET", "PUBLIC_BASE_URL", "PORT"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(TRADELINE_ENV="development", TRADELINE_VAR_DIR=str(var_dir), PYTHONUNBUFFERED="1")
    return env


def _tradeline(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tradeline", *args], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def demo_process(tmp_path):
    env = _dev_env(tmp_path)
    migrated = _tradeline("migrate", "--noinput", env=env)
    assert migrated.returncode == 0, migrated.stderr
    port = _free_base_port()
    log = (tmp_path / "run_demo.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "tradeline", "run_demo", "--port", str(port), "--no-seed"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    deadline = time.monotonic() + 90
    while "demo is running" not in (tmp_path / "run_demo.log").read_text():
        assert proc.poll() is None, (tmp_path / "run_demo.log").read_text()
        assert time.monotonic() < deadline, (tmp_path / "run_demo.log").read_text()
        time.sleep(0.3)
    yield {"proc": proc, "port": port, "var": tmp_path, "env": env, "log": tmp_path / "run_demo.log"}
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    log.close()


def test_run_demo_shares_its_configuration_and_says_it_was_asked_to_stop(demo_process):
    port, var = demo_process["port"], demo_process["var"]

    env_file = var / ".env"
    values = parse_env_file(env_file.read_text())
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    assert values["STRIPE_API_BASE"] == f"http://127.0.0.1:{port + 1}"
    assert values["TRADELINE_API_URL"] == f"http://127.0.0.1:{port + 2}/wp-json/wc/v3"
    assert values["PUBLIC_BASE_URL"] == f"http://127.0.0.1:{port}"
    assert values["STRIPE_SECRET_KEY"].startswith("sk_test_")
    assert not any(name.startswith("DEMO_") for name in values)  # demo passwords are not configuration

    # A command from a second terminal (no demo variables in its environment) sees the same configuration.
    probe = _tradeline("shell", "-v", "0", "-c", "from django.conf import settings as s; "
                       "print(s.STRIPE_API_BASE, s.STRIPE_SECRET_KEY, s.TRADELINE_API_URL, s.PUBLIC_BASE_URL)",
                       env=demo_process["env"])
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == [values["STRIPE_API_BASE"], values["STRIPE_SECRET_KEY"],
                                    values["TRADELINE_API_URL"], values["PUBLIC_BASE_URL"]]
    # ... unless its own environment says otherwise.
    overridden = _tradeline("shell", "-v", "0", "-c", "from django.conf import settings as s; print(s.STRIPE_API_BASE)",
                            env={**demo_process["env"], "STRIPE_API_BASE": "http://127.0.0.1:9"})
    assert overridden.stdout.strip() == "http://127.0.0.1:9"

    os.killpg(demo_process["proc"].pid, signal.SIGINT)
    assert demo_process["proc"].wait(timeout=30) == 0
    out = demo_process["log"].read_text()
    assert "the demo was asked to stop (SIGINT); stopping every process ..." in out
    assert out.rstrip().endswith("stopped.")
    assert "exited with code" not in out
