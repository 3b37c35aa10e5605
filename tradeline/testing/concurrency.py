"""Races for concurrency tests: callables run in threads released together at one barrier.

    results = run_together([lambda: broker_approve(broker_id=broker.pk)] * 5)
    assert sum(isinstance(r, Conflict) for r in results) == 4
    assert raised(results) == []        # where every call must succeed

Each thread has its own database connection (Django's are per thread) and closes it when done, so
the test database can be dropped afterwards. Calls that use the database need the test marked
`django_db(transaction=True)` to see its rows.
"""

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections


def run_together(calls: Sequence[Callable[[], Any]], *, prepare: bool = False, timeout: float = 10.0,
                 join_timeout: float = 60.0) -> list:
    """Run each callable in its own thread, all released at the same moment by a barrier; return, in
    the order of `calls`, what each returned or the exception it raised.

    With `prepare=True` each callable is a setup step run before the barrier (e.g. signing a webhook
    body) that returns the callable to release. `timeout` bounds the wait at the barrier (a call that
    fails before it breaks the barrier for the others at once); a call still running
    `join_timeout` seconds after the start fails the test.
    """
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            try:
                released = call() if prepare else call
            except BaseException:
                barrier.abort()
                raise
            barrier.wait(timeout=timeout)
            results[i] = released()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test, which asserts on it
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + join_timeout
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = [i for i, thread in enumerate(threads) if thread.is_alive()]
    assert not stuck, f"calls {stuck} still running after {join_timeout} s"
    return results


def raised(results: Sequence) -> list[BaseException]:
    """The exceptions among `run_together`'s results."""
    return [r for r in results if isinstance(r, BaseException)]
