"""Stripe-Signature verification: raw bytes, HMAC-SHA256 over "<t>.<body>", rotation, tolerance."""

import hashlib
import hmac
import json
import time

import pytest

from tradeline.payments.stripe_gateway import (
    WebhookPayloadError,
    WebhookSignatureError,
    sign_payload,
    verify_webhook,
)

SECRET = "whsec_current_0123456789abcdef"
OLD_SECRET = "whsec_previous_fedcba9876543210"
EVENT = {"id": "evt_1", "object": "event", "type": "checkout.session.completed",
         "data": {"object": {"id": "cs_test_1", "metadata": {"order_id": "7"}}}}
BODY = json.dumps(EVENT, separators=(",", ":")).encode()


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.STRIPE_WEBHOOK_SECRETS_PREVIOUS = ""
    settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300


def _hex(secret: str, t: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def test_sign_payload_is_stripes_scheme():
    header = sign_payload(BODY, SECRET, timestamp=1_700_000_000)
    assert header == f"t=1700000000,v1={_hex(SECRET, 1_700_000_000, BODY)}"


def test_sign_payload_defaults_to_now():
    before = int(time.time())
    header = sign_payload(BODY, SECRET)
    t = int(header.split(",")[0].removeprefix("t="))
    assert before <= t <= int(time.time())


def test_valid_signature_returns_event_dict():
    assert verify_webhook(BODY, sign_payload(BODY, SECRET)) == EVENT


def test_header_with_spaces_and_other_schemes_is_accepted():
    t = int(time.time())
    header = f"t={t}, v0=deadbeef, v1={_hex(SECRET, t, BODY)}"
    assert verify_webhook(BODY, header)["id"] == "evt_1"


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_signature(header):
    with pytest.raises(WebhookSignatureError) as info:
        verify_webhook(BODY, header)
    assert (info.value.status, info.value.code) == (400, "MISSING_SIGNATURE")


@pytest.mark.parametrize("header", [
    "garbage",
    "t=,v1=abc",
    "t=notanumber,v1=abc",
    "v1=abcdef",  # no timestamp
    "t=1700000000",  # no v1
    "t=1700000000,v0=abcdef",  # only the test-mode v0 scheme
    "t=1700000000,t=1700000001,v1=abcdef",  # two timestamps
    "t=-5,v1=abcdef",
    "t=99999999999999999999,v1=abc",
])
def test_malformed_signature(header):
    with pytest.raises(WebhookSignatureError) as info:
        verify_webhook(BODY, header)
    assert (info.value.status, info.value.code) == (400, "INVALID_SIGNATURE")


def test_wrong_secret_is_rejected():
    with pytest.raises(WebhookSignatureError) as info:
        verify_webhook(BODY, sign_payload(BODY, "whsec_someone_else"))
    assert info.value.code == "INVALID_SIGNATURE"


def test_tampered_body_is_rejected_before_parsing():
    header = sign_payload(BODY, SECRET)
    tampered = BODY.replace(b'"7"', b'"8"')
    with pytest.raises(WebhookSignatureError) as info:
        verify_webhook(tampered, header)
    assert info.value.code == "INVALID_SIGNATURE"


def test_reserialized_json_is_not_the_signed_body():
    header = sign_payload(BODY, SECRET)
    pretty = json.dumps(EVENT, indent=2).encode()  # same data, different bytes
    with pytest.raises(WebhookSignatureError):
        verify_webhook(pretty, header)


def test_timestamp_swapped_is_rejected():
    header = sign_payload(BODY, SECRET, timestamp=int(time.time()))
    sig = header.split("v1=")[1]
    with pytest.raises(WebhookSignatureError) as info:
        verify_webhook(BODY, f"t={int(time.time()) - 1},v1={sig}")
    assert info.value.code == "INVALID_SIGNATURE"


def test_stale_signature_is_rejected():
    header = sign_payload(BODY, SECRET, timestamp=int(time.time()) - 301)
    with pytest.raises(WebhookSignatureError) as info:
        verify_webhook(BODY, header)
    assert (info.value.status, info.value.code) == (400, "STALE_SIGNATURE")


def test_future_skewed_signature_is_rejected():
    header = sign_payload(BODY, SECRET, timestamp=int(time.time()) + 301)
    with pytest.raises(WebhookSignatureError) as info:
        verify_webhook(BODY, header)
    assert info.value.code == "STALE_SIGNATURE"


def test_signature_within_tolerance_is_accepted():
    header = sign_payload(BODY, SECRET, timestamp=int(time.time()) - 290)
    assert verify_webhook(BODY, header)["id"] == "evt_1"


def test_tolerance_comes_from_settings(settings):
    settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS = 10
    header = sign_payload(BODY, SECRET, timestamp=int(time.time()) - 60)
    with pytest.raises(WebhookSignatureError) as info:
        verify_webhook(BODY, header)
    assert info.value.code == "STALE_SIGNATURE"


def test_previous_secret_is_accepted_during_rotation(settings):
    settings.STRIPE_WEBHOOK_SECRETS_PREVIOUS = f"whsec_older_one, {OLD_SECRET}"
    assert verify_webhook(BODY, sign_payload(BODY, OLD_SECRET))["id"] == "evt_1"
    assert verify_webhook(BODY, sign_payload(BODY, SECRET))["id"] == "evt_1"


def test_previous_secret_is_rejected_once_rotation_ends():
    with pytest.raises(WebhookSignatureError) as info:
        verify_webhook(BODY, sign_payload(BODY, OLD_SECRET))
    assert info.value.code == "INVALID_SIGNATURE"


def test_any_of_several_v1_values_may_match():
    t = int(time.time())
    header = f"t={t},v1={_hex('whsec_new_secret', t, BODY)},v1={_hex(SECRET, t, BODY)}"
    assert verify_webhook(BODY, header)["id"] == "evt_1"


def test_signed_but_not_json_is_a_payload_error():
    body = b"not json at all"
    with pytest.raises(WebhookPayloadError) as info:
        verify_webhook(body, sign_payload(body, SECRET))
    assert (info.value.status, info.value.code) == (400, "INVALID_PAYLOAD")


@pytest.mark.parametrize("body", [b"[]", b'{"id": "evt_1"}', b'{"type": "x"}', b'"evt"', b"\xff\xfe"])
def test_signed_but_not_an_event_is_a_payload_error(body):
    with pytest.raises(WebhookPayloadError):
        verify_webhook(body, sign_payload(body, SECRET))


def test_unconfigured_secret_refuses_with_503(settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    with pytest.raises(Exception) as info:
        verify_webhook(BODY, sign_payload(BODY, SECRET))
    assert (info.value.status, info.value.code) == (503, "WEBHOOK_NOT_CONFIGURED")
