"""Demo data: the ACTIVE demo broker and its keys (see tradeline/devtools/demo.py).

Seeds only what is missing, so that a second `make run` keeps what the user changed: the first run
creates the broker (20 % markup, 10 % share, approved, portal password, both keys); later runs leave
its markup, share, profile, status, password and keys alone. They only add the demo's origin to
the allowed origins when it is missing (e.g. after `PORT=9000 make run`). The plaintext keys of the
credentials file come from the previous credentials file (env["DEMO_PREVIOUS_CREDENTIALS"]) while
they are still live; a key rotated since then is reported as such (it was shown once, in the portal).
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import transaction

from tradeline.brokers import services
from tradeline.brokers.keys import hash_key
from tradeline.brokers.models import Broker, BrokerApiKey, BrokerStatus, KeyKind, MarkupType

DEMO_BROKER_EMAIL = "broker@demo.local"
DEMO_BROKER_NAME = "Demo Credit Partners"
ROTATED = "(rotated since the first run: shown once where it was rotated; rotate it in the portal for a new one)"


def _base(env: dict) -> str:
    base = env.get("PUBLIC_BASE_URL") or (f"http://127.0.0.1:{env['PORT']}" if env.get("PORT")
                                          else settings.PUBLIC_BASE_URL)
    return base.rstrip("/")


def key_is_live(broker: Broker, key: str | None, kind: str) -> bool:
    return bool(key) and BrokerApiKey.objects.filter(broker=broker, kind=kind, key_hash=hash_key(key),
                                                     revoked_at__isnull=True).exists()


def _create(base: str, password: str) -> tuple[Broker, dict]:
    broker = services.broker_create(name="Dana Demo", email=DEMO_BROKER_EMAIL, business_name=DEMO_BROKER_NAME,
                                    website=f"{base}/demo/", revenue_share_percent=Decimal("10"))
    services.broker_admin_update(broker_id=broker.pk, allowed_origins=[base], markup_type=MarkupType.PERCENTAGE,
                                 markup_percent=Decimal("20"), markup_fixed=0)
    services.broker_approve(broker_id=broker.pk)
    if password:
        services.broker_set_password(broker_id=broker.pk, password=password)
    issued = services.broker_keys_rotate(broker_id=broker.pk)
    broker.refresh_from_db()
    return broker, {"publishable_key": issued["publishable_key"], "secret_key": issued["secret_key"]}


def _known_keys(broker: Broker, previous: dict) -> dict:
    """The previous run's plaintext keys that still work; a missing kind is issued, a rotated one reported."""
    before = previous.get("broker", {}) if isinstance(previous, dict) else {}
    keys = {}
    for name, kind in (("publishable_key", KeyKind.PUBLISHABLE), ("secret_key", KeyKind.SECRET)):
        if key_is_live(broker, before.get(name), kind):
            keys[name] = before[name]
        elif not BrokerApiKey.objects.filter(broker=broker, kind=kind, revoked_at__isnull=True).exists():
            keys[name] = services.broker_keys_rotate(broker_id=broker.pk, kind=kind)[name]  # missing: issue one
        else:
            keys[name] = ROTATED
    return keys


@transaction.atomic
def seed(env: dict) -> dict:
    base = _base(env)
    password = env.get("DEMO_BROKER_PASSWORD") or ""
    broker = Broker.objects.filter(email=DEMO_BROKER_EMAIL).first()
    notes = []
    if broker is None:
        broker, keys = _create(base, password)
    else:
        keys = _known_keys(broker, env.get("DEMO_PREVIOUS_CREDENTIALS") or {})
        if base not in broker.allowed_origins:
            services.broker_admin_update(broker_id=broker.pk, allowed_origins=[*broker.allowed_origins, base])
            broker.refresh_from_db()
        if not broker.password and password:
            services.broker_set_password(broker_id=broker.pk, password=password)
            broker.refresh_from_db()
        elif password and not check_password(password, broker.password):
            password = "(changed in the app since the first run; not reset)"
        if broker.status != BrokerStatus.ACTIVE:
            notes.append(f"the demo broker is {broker.status} (changed in the admin): the demo shop refuses "
                         "checkouts until an admin approves it again")
    result = {"id": str(broker.pk), "email": DEMO_BROKER_EMAIL, "password": password, **keys}
    if notes:
        result["notes"] = notes
    return {"broker": result}
