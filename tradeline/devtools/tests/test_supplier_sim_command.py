"""`tradeline supplier_sim` as a process: keys from the environment, faults from config."""

import os
import re
import subprocess
import sys

import httpx
import pytest
from django.core.management import CommandError, call_command

from tradeline.catalog.supplier.client import SupplierClient
from tradeline.catalog.supplier.errors import SupplierUnavailable


def _start(extra_args: list[str], env_extra: dict) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, **env_extra, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "tradeline", "supplier_sim", "--port", "0", *extra_args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+/wp-json/wc/v3)", line)
    if not match:
        proc.kill()
        raise AssertionError(f"no URL announced: {line!r} {proc.stderr.read()}")
    return proc, match.group(1)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_command_serves_with_keys_and_faults_from_config():
    keys = {"TRADELINE_CONSUMER_KEY": "ck_cmd", "TRADELINE_CONSUMER_SECRET": "cs_cmd"}
    proc, url = _start(["--catalog-size", "55", "--seed", "9", "--faults", '{"status": 503, "count": 1}'], keys)
    try:
        client = SupplierClient(base_url=url, consumer_key="ck_cmd", consumer_secret="cs_cmd", timeout=2,
                                max_retries=0)
        with pytest.raises(SupplierUnavailable):
            client.get_pricing()  # the configured fault, once
        assert len(client.get_pricing()) == 57  # 55 tradelines + 2 unreadable rows
        state = httpx.get(url.replace("/wp-json/wc/v3", "/_sim/state")).json()
        assert (state["catalog_size"], state["seed"]) == (55, 9)
        client.close()
    finally:
        _stop(proc)


def test_command_refuses_to_start_without_keys(monkeypatch):
    monkeypatch.delenv("TRADELINE_CONSUMER_KEY", raising=False)
    monkeypatch.delenv("TRADELINE_CONSUMER_SECRET", raising=False)
    with pytest.raises(CommandError, match="Set TRADELINE_CONSUMER_KEY and TRADELINE_CONSUMER_SECRET"):
        call_command("supplier_sim", "--port", "0")


def test_command_refuses_bad_fault_config(monkeypatch):
    monkeypatch.setenv("TRADELINE_CONSUMER_KEY", "ck")
    monkeypatch.setenv("TRADELINE_CONSUMER_SECRET", "cs")
    with pytest.raises(CommandError, match="unknown fault settings: boom"):
        call_command("supplier_sim", "--port", "0", "--faults", '{"boom": 1}')
