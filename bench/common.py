"""Shared pieces for benchmark sections: the Figure row and run Context, pgbench, and the HTTP
load tools the server sections share (a free port, percentiles, a gunicorn server on this checkout,
a closed-loop throughput driver and an open-loop paced driver)."""

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str = ""  # e.g. "< 5 s"
    ok: bool | None = None  # whether the target is met
    section: str = ""

    def line(self, width: int = 48) -> str:
        verdict = "" if self.ok is None else ("  OK" if self.ok else "  MISSED")
        target = f"  (target {self.target})" if self.target else ""
        return f"{self.name:<{width}} {self.value:>14,.2f} {self.unit}{target}{verdict}"

    def as_dict(self) -> dict:
        return {"section": self.section, "name": self.name, "value": self.value, "unit": self.unit,
                "target": self.target, "ok": self.ok}


@dataclass
class Context:
    database_url: str
    shared: dict = field(default_factory=dict)  # figures later sections compare against (e.g. pgbench TPS)


def pgbench_tps(database_url: str, *, clients: int = 4, seconds: int = 10, scale: int = 10) -> float:
    """TPC-B-like TPS of this machine's PostgreSQL (pgbench), on a scratch database."""
    base = database_url.rsplit("/", 1)[0]
    scratch = "tradeline_pgbench"
    host_args = ["-h", "127.0.0.1", "-U", "postgres"]
    subprocess.run(["psql", *host_args, "-qc", f"DROP DATABASE IF EXISTS {scratch}"], check=True,
                   capture_output=True)
    subprocess.run(["psql", *host_args, "-qc", f"CREATE DATABASE {scratch}"], check=True, capture_output=True)
    subprocess.run(["pgbench", *host_args, "-i", "-q", "-s", str(scale), scratch], check=True, capture_output=True)
    result = subprocess.run(["pgbench", *host_args, "-c", str(clients), "-j", "2", "-T", str(seconds), scratch],
                            check=True, capture_output=True, text=True)
    match = re.search(r"tps = ([\d.]+)", result.stdout)
    assert base  # the scratch database lives on the same server as the benchmark database
    return float(match.group(1)) if match else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile; 0.0 for no values."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))]


def log_path(name: str) -> Path:
    """var/bench-NAME.log: where a child's output goes (a pipe nobody reads would block the child once full)."""
    path = ROOT / "var" / f"bench-{name}.log"
    path.parent.mkdir(exist_ok=True)
    return path


def wait_until_answering(url: str, proc: subprocess.Popen, what: str, log: Path | None = None,
                         seconds: float = 30.0) -> None:
    """Return once `url` answers with any HTTP status; raise if `proc` exits or `seconds` pass first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log else ""
            raise RuntimeError(f"{what} exited" + (f" (see {log}): {tail}" if log else ""))
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not start within {seconds:.0f} s")


def stop_process(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


class GunicornServer:
    """gunicorn serving config.wsgi from this checkout on a free 127.0.0.1 port, sync workers.

    `env` overrides the environment (DATABASE_URL and the section's own settings); DEBUG is off,
    logging at WARNING and connections kept for 60 s unless `env` says otherwise. The constructor
    returns once /health answers; its output goes to var/bench-NAME.log. Use as a context manager
    or call stop()."""

    def __init__(self, env: dict[str, str], workers: int, name: str = "gunicorn"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "false",
                    "LOG_LEVEL": "WARNING", "DB_CONN_MAX_AGE": "60", **env}
        self.log = log_path(name)
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", str(workers), "--worker-class", "sync", "--log-level", "warning"],
                env=full_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
            )
        try:
            wait_until_answering(f"{self.url}/health", self.proc, "gunicorn", self.log)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        stop_process(self.proc)

    def __enter__(self) -> "GunicornServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# A request function sends request number n on the given client and tells whether it succeeded.
Request = Callable[[httpx.Client, int], bool]


def get_ok(url: str, headers: dict | None = None) -> Request:
    """The request function for a GET of `url` that succeeds on a 200."""

    def get(client: httpx.Client, n: int) -> bool:
        try:
            return client.get(url, headers=headers).status_code == 200
        except httpx.HTTPError:
            return False

    return get


@dataclass
class Load:
    """What a driver measured: successful and failed requests, wall seconds, latencies (ms) of the
    successful ones."""

    ok: int
    failed: int
    seconds: float
    latencies: list[float]

    @property
    def ok_per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def _clients(count: int, timeout: float) -> list[httpx.Client]:
    """The senders' HTTP clients, made before any clock starts: building one costs tens of ms of
    CPU (TLS context), which would otherwise delay the first requests and show as latency."""
    return [httpx.Client(timeout=timeout) for _ in range(count)]


def _run_senders(clients: list[httpx.Client], sender: Callable[[httpx.Client], None]) -> float:
    threads = [threading.Thread(target=sender, args=(client,)) for client in clients]
    started = time.perf_counter()
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for client in clients:
            client.close()
    return time.perf_counter() - started


def closed_loop(request: Request, *, count: int, clients: int, max_seconds: float, timeout: float = 10) -> Load:
    """Requests 0..count-1 from `clients` threads, each sending its next one as soon as the last
    answered; no new request starts after `max_seconds`."""
    lock = threading.Lock()
    state = {"next": 0, "ok": 0, "failed": 0}
    latencies: list[float] = []
    http_clients = _clients(clients, timeout)
    deadline = time.perf_counter() + max_seconds

    def sender(client: httpx.Client):
        while time.perf_counter() < deadline:
            with lock:
                if state["next"] >= count:
                    return
                n = state["next"]
                state["next"] += 1
            t0 = time.perf_counter()
            ok = request(client, n)
            with lock:
                state["ok" if ok else "failed"] += 1
                if ok:
                    latencies.append((time.perf_counter() - t0) * 1000)

    seconds = _run_senders(http_clients, sender)
    return Load(state["ok"], state["failed"], seconds, latencies)


def open_loop(request: Request, *, count: int, rate: float, senders: int, timeout: float = 10,
              grace_seconds: float | None = None) -> Load:
    """Open loop: request i is sent at its planned time start + i / rate, whether or not earlier ones
    have answered (`senders` threads keep the schedule while some requests are slow). Latencies run
    from the planned send time. With `grace_seconds`, requests still unsent that long after the
    schedule's end are not sent and count as failed (the server fell too far behind)."""
    lock = threading.Lock()
    slots = list(range(count))
    slots.reverse()
    state = {"ok": 0, "failed": 0}
    latencies: list[float] = []
    http_clients = _clients(senders, timeout)
    started = time.perf_counter() + 0.2
    give_up = None if grace_seconds is None else started + count / rate + grace_seconds

    def sender(client: httpx.Client):
        while True:
            with lock:
                if not slots:
                    return
                i = slots.pop()
            planned = started + i / rate
            if give_up is not None and time.perf_counter() > give_up:
                with lock:
                    state["failed"] += 1
                continue
            wait = planned - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            ok = request(client, i)
            elapsed_ms = (time.perf_counter() - planned) * 1000
            with lock:
                if ok:
                    state["ok"] += 1
                    latencies.append(elapsed_ms)
                else:
                    state["failed"] += 1

    seconds = _run_senders(http_clients, sender)
    return Load(state["ok"], state["failed"], seconds, latencies)
