"""Demo data: the ACTIVE demo broker with fresh keys on every seed (see tradeline/devtools/demo.py)."""

from decimal import Decimal

from django.conf import settings
from django.db import transaction

from tradeline.brokers import services
from tradeline.brokers.models import Broker, BrokerStatus, MarkupType

DEMO_BROKER_EMAIL = "broker@demo.local"
DEMO_BROKER_NAME = "Demo Credit Partners"


@transaction.atomic
def seed(env: dict) -> dict:
    base = env.get("PUBLIC_BASE_URL") or (f"http://127.0.0.1:{env['PORT']}" if env.get("PORT")
                                          else settings.PUBLIC_BASE_URL)
    base = base.rstrip("/")
    broker = Broker.objects.filter(email=DEMO_BROKER_EMAIL).first()
    if broker is None:
        broker = services.broker_create(name="Dana Demo", email=DEMO_BROKER_EMAIL, business_name=DEMO_BROKER_NAME,
                                        website=f"{base}/demo/", revenue_share_percent=Decimal("10"))
    services.broker_admin_update(
        broker_id=broker.pk, name="Dana Demo", business_name=DEMO_BROKER_NAME, website=f"{base}/demo/",
        allowed_origins=[base], markup_type=MarkupType.PERCENTAGE, markup_percent=Decimal("20"), markup_fixed=0,
        revenue_share_percent=Decimal("10"),
    )
    broker.refresh_from_db()
    if broker.status != BrokerStatus.ACTIVE:
        services.broker_approve(broker_id=broker.pk)
    password = env.get("DEMO_BROKER_PASSWORD") or ""
    if password:
        services.broker_set_password(broker_id=broker.pk, password=password)
    issued = services.broker_keys_rotate(broker_id=broker.pk)
    return {
        "broker": {
            "id": str(broker.pk),
            "email": DEMO_BROKER_EMAIL,
            "password": password,
            "publishable_key": issued["publishable_key"],
            "secret_key": issued["secret_key"],
        }
    }
