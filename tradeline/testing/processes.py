"""Output of the subprocesses a test starts (web servers, task workers).

A pipe that nobody reads holds 64 KiB; once full, the process blocks on its next log line and the test
waits for work that never finishes. Each process writes to a file of its own instead, kept under the
system's temporary directory so it can be read after a failure.
"""

import tempfile
import uuid
from pathlib import Path
from typing import IO

LOG_DIR = Path(tempfile.gettempdir()) / "tradeline-test-logs"


def log_file(what: str) -> IO[str]:
    """A new file for one subprocess's output (pass it as `stderr=`; close it after `Popen`)."""
    LOG_DIR.mkdir(exist_ok=True)
    return (LOG_DIR / f"{what}-{uuid.uuid4().hex[:8]}.log").open("w")
