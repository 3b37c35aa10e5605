"""Loaded first by pytest (`-p tradeline.testing.environment` in pyproject.toml), before Django's settings.

Tests run with TRADELINE_ENV=test: development-only behaviour (reading the demo's `var/.env`, the
file mail backend and the admin's Outbox) stays out of the suite, whatever `make run` left under var/.
Subprocesses the tests start inherit it.
"""

import os

os.environ.setdefault("TRADELINE_ENV", "test")
