"""Celery task backend in tests: the real broker (RabbitMQ at CELERY_BROKER_URL), queues of a test's own.

`celery_tasks` switches the Django Tasks backend to Celery with a queue prefix unique to the test (the
broker is shared with other test runs) and deletes those queues afterwards. Without a reachable broker
the test is skipped, except under CI (`CI=true`), where that is a failure.
"""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue

from tradeline.testing.processes import log_file

CELERY_BACKEND = "tradeline.core.celery_backend.CeleryBackend"
ROOT = Path(__file__).resolve().parents[2]


class CeleryTasks:
    def __init__(self, broker_url: str, prefix: str, queues: list[str]):
        self.broker_url = broker_url
        self.prefix = prefix
        self.queues = queues

    def queue(self, name: str) -> Queue:
        full = self.prefix + name
        return Queue(full, Exchange(full, type="direct"), routing_key=full)

    def message_count(self, name: str) -> int:
        """Messages ready in one of the test's queues (not those a worker holds unacknowledged)."""
        with Connection(self.broker_url) as conn:
            bound = self.queue(name)(conn.default_channel)
            bound.declare()
            _, count, _ = bound.queue_declare(passive=True)
            return count

    def take(self, name: str) -> list:
        """Remove and return the messages ready in one of the test's queues."""
        taken = []
        with Connection(self.broker_url) as conn:
            bound = self.queue(name)(conn.default_channel)
            bound.declare()
            while (message := bound.get(no_ack=True)) is not None:
                taken.append(message)
        return taken

    def env(self) -> dict[str, str]:
        """What a subprocess (web or worker) needs to use the same backend and queues."""
        return {"TASKS_BACKEND": CELERY_BACKEND, "CELERY_BROKER_URL": self.broker_url,
                "CELERY_QUEUE_PREFIX": self.prefix}

    def start_worker(self, env: dict, *, concurrency: int = 1) -> subprocess.Popen:
        """The documented worker command, in a process group of its own (see `kill_worker`)."""
        # Each worker a node name of its own, as on a real machine running several: two workers with the
        # same name share one remote-control queue, which RabbitMQ refuses to the second (it exits).
        node = f"{self.prefix}{uuid.uuid4().hex[:6]}@%h"
        command = [str(Path(sys.executable).parent / "celery"), "-A", "tradeline.core.celery_backend", "worker",
                   "--pool", "prefork", "--concurrency", str(concurrency), "--loglevel", "WARNING",
                   "--hostname", node, "--without-gossip", "--without-mingle", "--without-heartbeat"]
        with log_file("celery-worker") as log:
            return subprocess.Popen(command, env={**env, **self.env()}, cwd=ROOT, stdout=subprocess.DEVNULL,
                                    stderr=log, text=True, start_new_session=True)

    def delete_queues(self) -> None:
        with Connection(self.broker_url) as conn:
            for name in self.queues:
                bound = self.queue(name)(conn.default_channel)
                bound.delete()
                bound.exchange.delete()


def kill_worker(proc: subprocess.Popen) -> None:
    """SIGKILL a worker with its child processes (what a crashed machine or container does)."""
    os.killpg(proc.pid, signal.SIGKILL)


def broker_reachable(url: str) -> bool:
    try:
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:  # noqa: BLE001 (any failure to connect means "no broker here")
        return False


@pytest.fixture
def celery_tasks(settings):
    url = settings.CELERY_BROKER_URL
    if not broker_reachable(url):
        if os.environ.get("CI") == "true":
            pytest.fail(f"no message broker at {url}")
        pytest.skip(f"no message broker at {url}")
    queues = list(settings.TASKS["default"]["QUEUES"])
    handle = CeleryTasks(url, f"test-{uuid.uuid4().hex[:12]}.", queues)
    settings.TASKS = {"default": {**settings.TASKS["default"], "BACKEND": CELERY_BACKEND}}
    settings.CELERY_QUEUE_PREFIX = handle.prefix
    yield handle
    handle.delete_queues()
