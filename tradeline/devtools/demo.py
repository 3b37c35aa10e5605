"""The local demo shop: ports, secrets, seed data and the credentials file (var/demo-credentials.json).

`tradeline run_demo` computes the environment once (demo_environment), runs `tradeline demo_setup`
with it (migrate + seed_demo()), then starts every service with the same environment.
"""

import base64
import importlib
import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import check_password

from tradeline.brokers.models import AdminProfile, AdminRole

DEMO_ADMIN_EMAIL = "admin@demo.local"
STRIPE_SIM_PORT_OFFSET = 1
SUPPLIER_SIM_PORT_OFFSET = 2


def credentials_path() -> Path:
    return Path(settings.VAR_DIR) / "demo-credentials.json"


def _demo_secrets(var_dir: Path) -> dict:
    """Local-only secrets, generated once per checkout and kept under var/ (never committed)."""
    path = var_dir / "demo-secrets.json"
    values = json.loads(path.read_text()) if path.exists() else {}
    if values and "tax_id_encryption_key" in values:
        return values
    values = values or {
        "admin_password": secrets.token_urlsafe(12),
        "broker_password": secrets.token_urlsafe(12),
        "stripe_secret_key": f"sk_test_{secrets.token_hex(12)}",
        "stripe_webhook_secret": f"whsec_{secrets.token_hex(16)}",
        "supplier_consumer_key": f"ck_{secrets.token_hex(20)}",
        "supplier_consumer_secret": f"cs_{secrets.token_hex(20)}",
    }
    # A Fernet key (32 random bytes, urlsafe base64) for brokers' TINs; added to older files too.
    values["tax_id_encryption_key"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values


def demo_environment(port: int, var_dir: Path) -> dict[str, str]:
    s = _demo_secrets(var_dir)
    base = f"http://127.0.0.1:{port}"
    return {
        "PORT": str(port),
        "PUBLIC_BASE_URL": base,
        "STRIPE_SECRET_KEY": s["stripe_secret_key"],
        "STRIPE_WEBHOOK_SECRET": s["stripe_webhook_secret"],
        "STRIPE_API_BASE": f"http://127.0.0.1:{port + STRIPE_SIM_PORT_OFFSET}",
        "STRIPE_SIM_WEBHOOK_URL": f"{base}/api/orders/webhook/stripe",
        "TRADELINE_API_URL": f"http://127.0.0.1:{port + SUPPLIER_SIM_PORT_OFFSET}/wp-json/wc/v3",
        "TRADELINE_CONSUMER_KEY": s["supplier_consumer_key"],
        "TRADELINE_CONSUMER_SECRET": s["supplier_consumer_secret"],
        "TAX_ID_ENCRYPTION_KEYS": s["tax_id_encryption_key"],
        "DEMO_ADMIN_PASSWORD": s["admin_password"],
        "DEMO_BROKER_PASSWORD": s["broker_password"],
        # The demo supplier moves placed orders one stage further every 30 s (a real one: weeks).
        "SUPPLIER_SIM_STAGE_SECONDS": "30",
    }


def ensure_demo_admin(password: str) -> dict:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user = user_model.objects.filter(username=DEMO_ADMIN_EMAIL).first()
    if user is None:  # only the first run creates the admin; later runs leave its password and sessions alone
        user = user_model.objects.create_user(username=DEMO_ADMIN_EMAIL, email=DEMO_ADMIN_EMAIL, password=password,
                                              is_staff=True, is_superuser=True)
    elif not check_password(password, user.password):
        password = "(changed in the app since the first run; not reset)"
    AdminProfile.objects.get_or_create(user=user, defaults={"role": AdminRole.SUPER_ADMIN})
    return {"email": DEMO_ADMIN_EMAIL, "password": password, "url": f"{settings.PUBLIC_BASE_URL}/admin/"}


# Each app that has demo data provides `<module>.seed(env) -> dict`; the dicts are merged into the
# credentials file. Steps run in this order; a module that does not exist (yet) is skipped.
SEED_STEPS: list[str] = [
    "tradeline.devtools.seed.catalog",  # sync the catalog from the supplier simulator
    "tradeline.devtools.seed.brokers",  # the ACTIVE demo broker and its keys
    "tradeline.devtools.seed.widget",  # the demo page that embeds the widget
    "tradeline.devtools.seed.history",  # past orders, refunds, disputes and payouts
]


def _merge(into: dict, new: dict) -> None:
    """Deep-merge one step's credentials into the whole (nested dicts merge, other values replace)."""
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def seed_demo(env: dict, progress=None) -> dict:
    """Seed every demo step in order and write var/demo-credentials.json; returns the credentials.

    `progress` (optional) receives one line per step."""
    creds: dict = {
        "urls": {
            "shop": settings.PUBLIC_BASE_URL,
            "health": f"{settings.PUBLIC_BASE_URL}/health",
            "api_docs": f"{settings.PUBLIC_BASE_URL}/api/docs",
            "admin": f"{settings.PUBLIC_BASE_URL}/admin/",
            "stripe_api_base": env.get("STRIPE_API_BASE", ""),
            "supplier_api_url": env.get("TRADELINE_API_URL", ""),
        },
        "admin": ensure_demo_admin(env["DEMO_ADMIN_PASSWORD"]),
        "stripe": {"secret_key": env.get("STRIPE_SECRET_KEY", ""),
                   "webhook_secret": env.get("STRIPE_WEBHOOK_SECRET", "")},
    }
    path = credentials_path()
    previous = json.loads(path.read_text()) if path.exists() else {}
    for module_name in SEED_STEPS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        if progress:
            progress(f"  {module_name.split('.')[1]}: seeding ...")
        result = module.seed({**env, "DEMO_CREDENTIALS": creds, "DEMO_PREVIOUS_CREDENTIALS": previous}) or {}
        _merge(creds, result)
    path.write_text(json.dumps(creds, indent=2))
    path.chmod(0o600)
    return creds
