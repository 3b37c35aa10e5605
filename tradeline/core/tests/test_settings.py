import os
import subprocess
import sys

from tradeline.core.logging import redact
from tradeline.core.money import cents_to_usd, format_usd, percent_of


def _boot(env: dict) -> subprocess.CompletedProcess:
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup(); print('ok')"
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "STRIPE_SECRET_KEY", "REDIS_URL"}}
    return subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True)


def test_production_refuses_to_start_without_secrets():
    result = _boot({"TRADELINE_ENV": "production", "DEBUG": "false"})
    assert result.returncode != 0
    assert "required settings are missing" in result.stderr
    assert "STRIPE_SECRET_KEY" in result.stderr


def test_production_starts_with_secrets():
    result = _boot({
        "TRADELINE_ENV": "production", "DEBUG": "false", "SECRET_KEY": "x" * 50, "STRIPE_SECRET_KEY": "sk_live_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x", "TRADELINE_API_URL": "https://supplier.example/wp-json/wc/v3",
        "TRADELINE_CONSUMER_KEY": "ck_x", "TRADELINE_CONSUMER_SECRET": "cs_x", "ALLOWED_HOSTS": "shop.example",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "ORDER_STATUS_LINK_SECRET": "s" * 40,
    })
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_production_refuses_to_start_without_a_shared_cache():
    """Without REDIS_URL each web process would cache API keys on its own: a revoked key would keep
    working in the others for up to a minute (issue 14, item 11)."""
    result = _boot({
        "TRADELINE_ENV": "production", "DEBUG": "false", "SECRET_KEY": "x" * 50, "STRIPE_SECRET_KEY": "sk_live_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x", "TRADELINE_API_URL": "https://supplier.example/wp-json/wc/v3",
        "TRADELINE_CONSUMER_KEY": "ck_x", "TRADELINE_CONSUMER_SECRET": "cs_x", "ALLOWED_HOSTS": "shop.example",
        "ORDER_STATUS_LINK_SECRET": "s" * 40,
    })
    assert result.returncode != 0
    assert "required settings are missing: REDIS_URL." in result.stderr


def test_money_formatting():
    assert cents_to_usd(120000) == "1200.00"
    assert cents_to_usd(-5) == "-0.05"
    assert format_usd(123456789) == "$1,234,567.89"
    assert percent_of(5, __import__("decimal").Decimal("10")) == 1  # 0.5 rounds half up


def test_secrets_are_redacted_from_log_lines():
    line = "calling with sk_test_abc123 and whsec_zzz and key tlm_sk_AbC_123 password=hunter2"
    cleaned = redact(line)
    for secret in ("sk_test_abc123", "whsec_zzz", "tlm_sk_AbC_123", "hunter2"):
        assert secret not in cleaned
