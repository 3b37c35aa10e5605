"""Shared pieces for benchmark sections."""

import re
import subprocess
from dataclasses import dataclass, field


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
