"""Schema-driven fuzzing of the whole API (schemathesis over /api/openapi.json, in process via WSGI).

Every operation is called with generated input — valid and invalid — twice: once without
credentials, once with the credential its authorization rule asks for (see
test_authorization_matrix.RULES): a broker's publishable key, its secret key, or an ADMIN bearer
token. In the credentialed run, part of the examples aim their path parameters at real objects of
the broker (a pending or a paid order, a payout, a key), so the services behind the endpoints run,
not only the 404 branch, and a few known-good requests (a real cart, a manual payment, a refund of
a payment the local Stripe server knows...) must succeed. Stripe calls go to the local Stripe
server, supplier calls to the supplier simulator. Checks on every response: never a 5xx, the
status code is documented, the content type is the documented one (JSON), and the body matches
the documented schema. The webhook's signed input is fuzzed in test_webhook_fuzz.py.

Bounded: SECURITY_FUZZ_EXAMPLES examples per operation and run (default 12; about 20 s for both
runs on SQLite), 5 s per request at most, derandomized so CI is repeatable; raise the count
locally to search harder (60 finds nothing more today: about 5 minutes).
"""

import os
import re
from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.security.conftest import ADMIN, ANONYMOUS, OTHER, OWNER, PUBLISHABLE, Principal, build_world
from tests.security.test_authorization_matrix import RULES

MAX_EXAMPLES = int(os.environ.get("SECURITY_FUZZ_EXAMPLES", "12"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]

# The credential the credentialed run sends, per authorization rule.
CREDENTIAL_FOR_RULE = {
    "broker_any_key": PUBLISHABLE,
    "broker_secret": OWNER,
    "broker_secret_object": OWNER,
    "owner_or_admin": OWNER,  # every other example: ADMIN
    "admin_read": ADMIN,
    "admin_write": ADMIN,
    "open": ANONYMOUS,
    "stripe_signature": ANONYMOUS,  # unsigned here: always 400
}
# Operations after which the credentials of the run may be gone (rotated, revoked, logged out).
CREDENTIAL_CHANGING = re.compile(r"/(rotate-keys|revoke|logout|password|suspend|deactivate)$|^PATCH /api/admin/brokers/")


def _card_id() -> str:
    from tradeline.catalog.selectors import checkout_catalog

    return next(iter(checkout_catalog()))


def _cart(world, stripe_sim):
    from tradeline.testing.agreements import agreement_fields

    return None, {"customer_email": "fuzz-buyer@example.com", "customer_name": "Fuzz Buyer",
                  "items": [{"card_id": _card_id(), "quantity": 1}], **agreement_fields()}


def _stripe_paid_order(world, stripe_sim):
    """An order paid for real at the local Stripe server (so Stripe knows its payment intent)."""
    from tradeline.payments.services import PaidOutcome, order_payment_record
    from tradeline.payments.services.checkout import checkout_create
    from tradeline.testing.agreements import agreement_consent

    order, session = checkout_create(broker=world.broker, customer_email="paid-buyer@example.com",
                                     items=[(_card_id(), 1)], agreement=agreement_consent())
    stripe_sim.pay(session.id, deliver=False)
    paid_session = stripe_sim.session(session.id)
    intent = stripe_sim.payment_intent(paid_session["payment_intent"])
    order_payment_record(order_id=order.pk, amount=order.total_charged, currency="usd", method="STRIPE",
                    payment_intent=intent["id"], charge_id=intent["latest_charge"])
    return order


def _fresh_pending_order(world):
    from tradeline.testing.factories import make_order

    return make_order(broker=world.broker, prices=(120_000,))


# Requests that must succeed (2xx, valid against the schema), each run once per credentialed run.
KNOWN_GOOD = {
    "POST /api/orders/checkout": _cart,
    "POST /api/admin/orders": _cart,
    "POST /api/orders/{order_id}/manual-payment": lambda world, sim: (
        {"order_id": str(_fresh_pending_order(world).pk)}, {"payment_method": "WIRE", "reference": "WIRE-778"}),
    "POST /api/orders/{order_id}/refund": lambda world, sim: (
        {"order_id": str(_stripe_paid_order(world, sim).pk)}, {"amount": 500, "reason": "goodwill"}),
    "POST /api/payouts/{payout_id}/process": lambda world, sim: (
        {"payout_id": str(world.payout.pk)}, {"transaction_id": "TX-1001", "notes": "wire sent"}),
    "GET /api/payouts/{payout_id}/report": lambda world, sim: ({"payout_id": str(world.payout.pk)}, None),
}


class InProcessApp:
    """Django's WSGI handler for in-process calls inside a test transaction.

    The credentials of the run are added here, below schemathesis: its negative cases may drop
    headers, and must not drop ours. Like Django's test client, it keeps `close_old_connections`
    off the request signals during the call, so the test's connection (and its open transaction)
    stays usable.
    """

    def __init__(self):
        self.handler = get_wsgi_application()
        self.credentials: dict[str, str] = {}  # WSGI environ entries added to every request

    def __call__(self, environ, start_response):
        environ.update(self.credentials)
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, start_response)
            body = b"".join(response)
            response.close()
            return [body]
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


class Fuzz:
    """One run over every operation: the world, the credentials, and the failures found."""

    def __init__(self, *, credentialed: bool, stripe_sim):
        self.credentialed = credentialed
        self.stripe_sim = stripe_sim
        self.world = build_world()
        self.calls = 0
        self.failures: dict[str, str] = {}
        self.statuses: dict[str, set[int]] = {}

    def refresh_credentials(self) -> None:
        """Active brokers with new keys and new admin tokens (after an operation that may end them)."""
        from tradeline.brokers.auth import issue_admin_token
        from tradeline.brokers.models import Broker, BrokerApiKey, BrokerStatus, KeyKind
        from tradeline.brokers.services import broker_keys_rotate

        world = self.world
        Broker.objects.filter(pk__in=[world.broker.pk, world.other_broker.pk]).update(status=BrokerStatus.ACTIVE)
        keys_a = broker_keys_rotate(broker_id=world.broker.pk)
        keys_b = broker_keys_rotate(broker_id=world.other_broker.pk)
        token, _ = issue_admin_token(world.admin_user, 3600)
        world.principals.update({
            PUBLISHABLE: Principal(PUBLISHABLE, {"x-api-key": keys_a["publishable_key"]}),
            OWNER: Principal(OWNER, {"x-api-key": keys_a["secret_key"]}),
            OTHER: Principal(OTHER, {"x-api-key": keys_b["secret_key"]}),
            ADMIN: Principal(ADMIN, {"Authorization": f"Bearer {token}"}),
        })
        world.key_id = str(BrokerApiKey.objects.get(broker=world.broker, kind=KeyKind.PUBLISHABLE,
                                                    revoked_at__isnull=True).pk)

    def credentials_for(self, label: str) -> dict:
        if not self.credentialed:
            return {}
        rule = RULES[label]
        who = CREDENTIAL_FOR_RULE[rule]
        if rule == "owner_or_admin" and self.calls % 2:
            who = ADMIN
        return self.world.principals[who].wsgi

    def strategy(self, operation):
        """Valid and invalid input; in the credentialed run also valid input aimed at real objects."""
        strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
        names = [p.name for p in operation.path_parameters] if operation.path_parameters else []
        if self.credentialed and names:
            for order in (self.world.pending_order, self.world.paid_order):
                values = self.world.path_values(order=order)
                strategies.append(operation.as_strategy(
                    GenerationMode.POSITIVE, path_parameters={name: values[name] for name in names}))
        return st.one_of(*strategies)

    def run_operation(self, operation) -> None:
        app = operation.schema.app
        label = f"{operation.method.upper()} {operation.path}"
        changes_credentials = bool(CREDENTIAL_CHANGING.search(label))

        examples = MAX_EXAMPLES
        if not self.credentialed and CREDENTIAL_FOR_RULE[RULES[label]] != ANONYMOUS:
            examples = max(3, MAX_EXAMPLES // 3)  # authentication comes first: most of the input is never read

        @settings(FUZZ_SETTINGS, max_examples=examples)
        @given(case=self.strategy(operation))
        def run(case):
            self.calls += 1
            app.credentials = self.credentials_for(label)
            try:
                response = case.call_and_validate(checks=CHECKS)
                self.statuses.setdefault(label, set()).add(response.status_code)
            finally:
                if changes_credentials and self.credentialed:
                    self.refresh_credentials()

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # one operation's failure must not hide the others'
            self.failures[label] = f"{type(exc).__name__}: {exc}"[:3000]

    def run_known_good(self, operation, label: str) -> None:
        """The happy path, which random input rarely finds: a real cart, a valid manual payment..."""
        builder = KNOWN_GOOD.get(label)
        if builder is None or not self.credentialed:
            return
        path_parameters, body = builder(self.world, self.stripe_sim)
        extra = {} if body is None else {"body": body}
        case = operation.Case(path_parameters=path_parameters or None, **extra)
        operation.schema.app.credentials = self.credentials_for(label)
        response = case.call_and_validate(checks=CHECKS)
        self.statuses.setdefault(label, set()).add(response.status_code)
        assert 200 <= response.status_code < 300, f"{label}: the known-good request got {response.status_code}"

    def run_all(self, schema) -> None:
        for result in schema.get_all_operations():
            operation = result.ok()
            label = f"{operation.method.upper()} {operation.path}"
            try:
                self.run_known_good(operation, label)
            except (Exception, BaseExceptionGroup) as exc:
                self.failures[f"{label} (known good)"] = f"{type(exc).__name__}: {exc}"[:3000]
            self.run_operation(operation)
        assert self.failures == {}, "\n\n".join(f"== {label}\n{text}" for label, text in self.failures.items())
        if self.credentialed:
            # The credentials worked: every operation answered something past authorization.
            locked_out = sorted(label for label, seen in self.statuses.items()
                                if RULES[label] != "stripe_signature" and not seen - {401, 403})
            assert locked_out == [], f"never got past authorization: {locked_out}"


FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=timedelta(seconds=5),  # one request slower than this is a finding (a pathological input)
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def api_schema(db, stripe_sim, supplier_sim):
    supplier_sim.sync()
    return schemathesis.openapi.from_wsgi("/api/openapi.json", InProcessApp())


def test_api_without_credentials(api_schema, stripe_sim):
    Fuzz(credentialed=False, stripe_sim=stripe_sim).run_all(api_schema)


def test_api_with_credentials(api_schema, stripe_sim):
    Fuzz(credentialed=True, stripe_sim=stripe_sim).run_all(api_schema)
