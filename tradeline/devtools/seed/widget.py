"""Demo data: the page at /demo/ that embeds the widget as the demo broker's website would.

Runs after tradeline.devtools.seed.brokers (see tradeline/devtools/demo.py), which issues the demo broker's
keys; their plaintext reaches this step through env["DEMO_CREDENTIALS"]. A page that already embeds a
live key of the demo broker is kept; without a usable key (run alone) a new publishable key is issued.
"""

from django.conf import settings

from tradeline.brokers.models import Broker, BrokerStatus, KeyKind
from tradeline.brokers.services import broker_keys_rotate
from tradeline.devtools.seed.brokers import key_is_live
from tradeline.widget.models import DemoPage
from tradeline.widget.services import demo_page_set

DEMO_BROKER_EMAIL = "broker@demo.local"


def _demo_broker() -> Broker | None:
    return (Broker.objects.filter(email=DEMO_BROKER_EMAIL).first()
            or Broker.objects.filter(status=BrokerStatus.ACTIVE).order_by("created_at").first())


def seed(env: dict) -> dict:
    """Keep the demo page when it already sells for the demo broker with a live key (the portal's key
    rotation updates it); otherwise point it at the key the brokers step knows, or issue one."""
    broker = _demo_broker()
    if broker is None:
        return {}
    creds = env.get("DEMO_CREDENTIALS") or {}
    known = creds.get("broker", {}) if isinstance(creds, dict) else {}
    page = DemoPage.objects.filter(broker=broker).first()
    extra: dict = {}
    if page is not None and key_is_live(broker, page.publishable_key, KeyKind.PUBLISHABLE):
        publishable = page.publishable_key
    else:
        publishable = known.get("publishable_key") if known.get("id") in (None, str(broker.pk)) else None
        if not key_is_live(broker, publishable, KeyKind.PUBLISHABLE):
            publishable = broker_keys_rotate(broker_id=broker.pk, kind="PUBLISHABLE")["publishable_key"]
        demo_page_set(broker=broker, publishable_key=publishable, title=broker.business_name or broker.name)
    if known.get("publishable_key") != publishable:
        extra = {"broker": {"publishable_key": publishable}}
    base = (env.get("PUBLIC_BASE_URL") or settings.PUBLIC_BASE_URL).rstrip("/")
    return {
        **extra,
        "urls": {
            "demo_shop": f"{base}/demo/",
            "widget_js": f"{base}/widget.js",
            "broker_portal": f"{base}/portal/",
        },
    }
