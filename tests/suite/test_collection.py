"""The suite can run under pytest-xdist: two separate collections give the same test ids in the same
order (xdist refuses to run otherwise). A random value or a set's order in a `parametrize` breaks it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _collect(hash_seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_two_collections_give_identical_test_ids():
    first, second = _collect("1"), _collect("2")

    assert len(first) > 1000
    assert first == second, [pair for pair in zip(first, second, strict=False) if pair[0] != pair[1]][:5]
