"""Every API operation × every kind of caller -> the status class the rules say.

The table RULES names the rule of each operation; the first test reads the served OpenAPI schema,
so an operation added without a rule (or a rule left for a removed operation) fails the suite.

Callers: anonymous, broker A's publishable key, broker A's secret key (the owner of every object
in the path), broker B's secret key, a SUPPORT admin, an ADMIN. Path parameters always name broker
A's objects; POST/PATCH bodies are `{}`. "allow" means the caller got past authorization: a 2xx, or
a 4xx other than 401/403/404 (e.g. 422 for the empty body, 409 for a state conflict). A denied call
must leave no trace: no audit row, no changed row.
"""

import hashlib
import re

import pytest
from django.db.models import Count, Max
from django.test import Client

from tests.security.conftest import ADMIN, ANONYMOUS, OTHER, OWNER, PRINCIPALS, PUBLISHABLE, SUPPORT

ALLOW = "allow"

# rule name -> expected outcome per caller (ALLOW or the exact denial status)
MATRIX = {
    # any key of an active broker (the widget's endpoints): the broker is the key's own
    "broker_any_key": {ANONYMOUS: 401, PUBLISHABLE: ALLOW, OWNER: ALLOW, OTHER: ALLOW, SUPPORT: 401, ADMIN: 401},
    # the calling broker's own resources (secret key only): nothing in the path to own
    "broker_secret": {ANONYMOUS: 401, PUBLISHABLE: 403, OWNER: ALLOW, OTHER: ALLOW, SUPPORT: 401, ADMIN: 401},
    # secret key, and the path names one of the caller's objects: another broker's is a 404
    "broker_secret_object": {ANONYMOUS: 401, PUBLISHABLE: 403, OWNER: ALLOW, OTHER: 404, SUPPORT: 401, ADMIN: 401},
    # admins (any role), or the owning broker's secret key; another broker's object is a 404
    "owner_or_admin": {ANONYMOUS: 401, PUBLISHABLE: 403, OWNER: ALLOW, OTHER: 404, SUPPORT: ALLOW, ADMIN: ALLOW},
    # admin bearer token, any role; broker keys are not credentials here
    "admin_read": {ANONYMOUS: 401, PUBLISHABLE: 401, OWNER: 401, OTHER: 401, SUPPORT: ALLOW, ADMIN: ALLOW},
    # admin bearer token of a writing role: SUPPORT only reads
    "admin_write": {ANONYMOUS: 401, PUBLISHABLE: 401, OWNER: 401, OTHER: 401, SUPPORT: 403, ADMIN: ALLOW},
    # no credential at all (admin login: the password is the credential)
    "open": {name: ALLOW for name in PRINCIPALS},
    # Stripe's webhook: no caller credential counts; without a Stripe-Signature it is a 400
    "stripe_signature": {name: 400 for name in PRINCIPALS},
}

RULES = {
    # admin login / session
    "POST /api/admin/auth/login": "open",
    "POST /api/admin/auth/login/2fa": "open",
    "GET /api/reports/revenue": "admin_read",
    "GET /api/brokers/me/webhooks": "broker_secret",
    "POST /api/brokers/me/webhooks": "broker_secret",
    "PATCH /api/brokers/me/webhooks/{endpoint_id}": "broker_secret_object",
    "DELETE /api/brokers/me/webhooks/{endpoint_id}": "broker_secret_object",
    "POST /api/brokers/me/webhooks/{endpoint_id}/rotate-secret": "broker_secret_object",
    "POST /api/brokers/me/webhooks/{endpoint_id}/test": "broker_secret_object",
    "GET /api/brokers/me/webhooks/{endpoint_id}/deliveries": "broker_secret_object",
    "POST /api/brokers/me/webhook-deliveries/{delivery_id}/resend": "broker_secret_object",
    "POST /api/admin/auth/logout": "admin_read",
    "GET /api/admin/auth/me": "admin_read",
    # broker administration
    "GET /api/admin/brokers": "admin_read",
    "POST /api/admin/brokers": "admin_write",
    "GET /api/admin/brokers/{broker_id}": "admin_read",
    "PATCH /api/admin/brokers/{broker_id}": "admin_write",
    "POST /api/admin/brokers/{broker_id}/approve": "admin_write",
    "POST /api/admin/brokers/{broker_id}/suspend": "admin_write",
    "POST /api/admin/brokers/{broker_id}/deactivate": "admin_write",
    "POST /api/admin/brokers/{broker_id}/rotate-keys": "admin_write",
    "GET /api/admin/brokers/{broker_id}/keys": "admin_read",
    "POST /api/admin/brokers/{broker_id}/keys/{key_id}/revoke": "admin_write",
    "POST /api/admin/brokers/{broker_id}/password": "admin_write",
    # broker self-service
    "GET /api/brokers/me": "broker_secret",
    "GET /api/brokers/me/public": "broker_any_key",
    "PATCH /api/brokers/me": "broker_secret",
    "GET /api/brokers/me/keys": "broker_secret",
    "GET /api/brokers/me/keys/{key_id}": "broker_secret_object",
    "POST /api/brokers/me/keys/{key_id}/revoke": "broker_secret_object",
    "POST /api/brokers/me/rotate-keys": "broker_secret",
    "GET /api/brokers/me/earnings": "broker_secret",
    "GET /api/brokers/me/statements/{year}": "broker_secret",
    "GET /api/brokers/{broker_id}": "owner_or_admin",
    # catalog, checkout, widget analytics
    "GET /api/public/pricing": "broker_any_key",
    "GET /api/public/agreement": "broker_any_key",
    "POST /api/orders/checkout": "broker_any_key",
    "POST /api/analytics/widget-load": "broker_any_key",
    "POST /api/analytics/widget-event": "broker_any_key",
    "GET /api/public/config": "broker_any_key",
    # orders
    "GET /api/orders/broker": "broker_secret",
    "GET /api/orders": "admin_read",
    "GET /api/orders/{order_id}": "owner_or_admin",
    "POST /api/orders/{order_id}/cancel": "admin_write",
    "POST /api/admin/orders": "admin_write",
    # payment events
    "POST /api/orders/webhook/stripe": "stripe_signature",
    "POST /api/orders/{order_id}/manual-payment": "admin_write",
    "POST /api/orders/{order_id}/payment-link": "admin_write",
    "POST /api/orders/{order_id}/refund": "admin_write",
    "POST /api/orders/{order_id}/retry-fulfillment": "admin_write",
    "GET /api/orders/{order_id}/dispute/evidence": "admin_read",
    "POST /api/orders/{order_id}/dispute/evidence": "admin_write",
    # payouts
    "POST /api/payouts": "admin_write",
    "GET /api/payouts/pending": "admin_read",
    "GET /api/payouts/broker": "broker_secret",
    "GET /api/payouts/{payout_id}": "owner_or_admin",
    "POST /api/payouts/{payout_id}/process": "admin_write",
    "POST /api/payouts/{payout_id}/cancel": "admin_write",
    "POST /api/payouts/{payout_id}/fail": "admin_write",
    "POST /api/payouts/{payout_id}/send": "admin_write",
    "POST /api/payouts/reversals": "admin_write",
    "GET /api/payouts/{payout_id}/report": "owner_or_admin",
}

# Callers are tried in this order: callers that may change broker A's keys or state come last.
CALL_ORDER = (ANONYMOUS, PUBLISHABLE, OTHER, SUPPORT, OWNER, ADMIN)


def served_operations() -> set[str]:
    schema = Client().get("/api/openapi.json").json()
    return {f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops}


def test_every_operation_has_a_rule(db):
    operations = served_operations()
    assert sorted(operations - set(RULES)) == [], "operations without an authorization rule"
    assert sorted(set(RULES) - operations) == [], "rules for operations that no longer exist"
    assert set(RULES.values()) <= set(MATRIX)


def state_fingerprint() -> str:
    """Row counts and latest change of every table a call could touch (denied calls must not)."""
    from tradeline.audit.models import ActivityLog
    from tradeline.brokers.models import AdminToken, Broker, BrokerApiKey
    from tradeline.orders.models import Order
    from tradeline.payments.models import Refund
    from tradeline.payouts.models import CommissionRecord, Payout

    parts = []
    for model in (ActivityLog, Broker, BrokerApiKey, AdminToken, Order, Refund, CommissionRecord, Payout):
        stamp_field = "updated_at" if any(f.name == "updated_at" for f in model._meta.fields) else "pk"
        agg = model.objects.aggregate(n=Count("pk"), last=Max(stamp_field))
        parts.append(f"{model.__name__}:{agg['n']}:{agg['last']}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def call(client: Client, operation: str, world, principal) -> int:
    method, template = operation.split(" ", 1)
    values = world.path_values()
    path = re.sub(r"{(\w+)}", lambda m: values[m.group(1)], template)
    kwargs = dict(principal.wsgi)
    if method in ("POST", "PATCH", "PUT"):
        kwargs.update(data="{}", content_type="application/json")
    response = client.generic(method, path, **kwargs)
    assert response.status_code < 500, f"{operation} as {principal.name}: {response.status_code} {response.content[:300]}"
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error", "code", "details"}, f"{operation} as {principal.name}: error body {body}"
    return response.status_code


def outcome_class(status: int) -> str | int:
    return status if status in (400, 401, 403, 404) else ALLOW


# Operations that price a cart need a synced catalog (the supplier simulator).
NEEDS_CATALOG = {"GET /api/public/pricing", "POST /api/orders/checkout", "POST /api/admin/orders"}


@pytest.mark.parametrize("operation", sorted(RULES))
def test_authorization(operation, world, request):
    if operation in NEEDS_CATALOG:
        request.getfixturevalue("supplier_sim").sync()
    expected = MATRIX[RULES[operation]]
    client = Client()
    mismatches = []
    for name in CALL_ORDER:
        principal = world.principals[name]
        want = expected[name]
        before = state_fingerprint() if want != ALLOW else None
        status = call(client, operation, world, principal)
        got = outcome_class(status)
        if want == 400 and status != 400:
            mismatches.append(f"{name}: expected 400, got {status}")
        elif want != 400 and got != want:
            mismatches.append(f"{name}: expected {want}, got {status}")
        if before is not None:
            assert state_fingerprint() == before, f"{operation} denied for {name} but changed data"
    assert mismatches == [], f"{operation} ({RULES[operation]}): " + "; ".join(mismatches)


def test_signed_webhook_needs_no_caller_credential(world, stripe_sim):
    """The webhook's only credential is Stripe's signature: a correctly signed event is accepted."""
    import json
    import time

    from tradeline.payments.stripe_gateway import sign_payload
    from tradeline.payments.models import WebhookEvent

    payload = json.dumps({"id": "evt_security_matrix", "object": "event", "type": "customer.created",
                          "created": int(time.time()), "data": {"object": {"id": "cus_1", "object": "customer"}}})
    signature = sign_payload(payload.encode(), stripe_sim.webhook_secret)
    response = Client().post("/api/orders/webhook/stripe", payload, content_type="application/json",
                             HTTP_STRIPE_SIGNATURE=signature)
    assert response.status_code == 200, response.content
    assert response.json()["event_id"] == "evt_security_matrix"
    assert WebhookEvent.objects.filter(event_id="evt_security_matrix").count() == 1
    tampered = Client().post("/api/orders/webhook/stripe", payload.replace("cus_1", "cus_2"),
                             content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)
    assert tampered.status_code == 400
    assert WebhookEvent.objects.count() == 1
