"""Builders for Stripe-shaped JSON objects and the validation of their create parameters."""

import re
import secrets
import string
import time

from tradeline.devtools.stripe_sim import shapes
from tradeline.devtools.stripe_sim.errors import SimError

API_VERSION = "2026-10-28.endive"
MIN_AMOUNT = 50  # Stripe's minimum charge in USD cents
MAX_AMOUNT = 99_999_999  # $999,999.99
_ALPHABET = string.ascii_letters + string.digits
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def now() -> int:
    return int(time.time())


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def list_object(data: list, url: str, has_more: bool = False) -> dict:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def parse_int(value, param: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        raise SimError(400, f"Invalid integer: {value!r}", code="parameter_invalid_integer", param=param)
    text = str(value).strip()
    if not re.fullmatch(r"-?\d{1,15}", text):
        raise SimError(400, f"Invalid integer: {text}", code="parameter_invalid_integer", param=param)
    number = int(text)
    if minimum is not None and number < minimum:
        raise SimError(400, f"This value must be greater than or equal to {minimum}.",
                       code="parameter_invalid_integer", param=param)
    if maximum is not None and number > maximum:
        raise SimError(400, f"This value must be less than or equal to {maximum}.",
                       code="parameter_invalid_integer", param=param)
    return number


def parse_metadata(value, param: str) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise SimError(400, "Invalid object", code="parameter_invalid_object", param=param)
    if len(value) > 50:
        raise SimError(400, "Metadata can have at most 50 keys.", param=param)
    out = {}
    for key, val in value.items():
        if not isinstance(val, str):
            raise SimError(400, "Metadata values must be strings.", param=f"{param}[{key}]")
        if len(key) > 40:
            raise SimError(400, "Metadata keys can be at most 40 characters long.", param=f"{param}[{key}]")
        if len(val) > 500:
            raise SimError(400, "Metadata values can be at most 500 characters long.", param=f"{param}[{key}]")
        out[key] = val
    return out


def parse_email(value, param: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _EMAIL.match(value) or len(value) > 512:
        raise SimError(400, f"Invalid email address: {value}", code="email_invalid", param=param)
    return value


def parse_url(value, param: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value) or len(value) > 5000:
        raise SimError(400, "Not a valid URL", code="url_invalid", param=param)
    return value


def parse_consent_params(params: dict) -> tuple[dict | None, dict]:
    """`consent_collection` and `custom_text` of a Checkout Session as Stripe checks them:
    terms_of_service is `none` or `required`, promotions `auto` or `none`; each custom_text entry
    (after_submit, shipping_address, submit, terms_of_service_acceptance) has a `message` of at most
    1200 characters. Returns the session's `consent_collection` (None when not asked) and `custom_text`."""
    raw = params.get("consent_collection")
    consent = None
    if raw not in (None, ""):
        if not isinstance(raw, dict):
            raise SimError(400, "Invalid object", param="consent_collection")
        unknown = set(raw) - {"terms_of_service", "promotions", "payment_method_reuse_agreement"}
        if unknown:
            name = sorted(unknown)[0]
            raise SimError(400, f"Received unknown parameter: consent_collection[{name}]",
                           param=f"consent_collection[{name}]")
        tos, promotions = raw.get("terms_of_service"), raw.get("promotions")
        if tos not in (None, "none", "required"):
            raise SimError(400, f"Invalid consent_collection[terms_of_service]: must be one of none or required",
                           code="parameter_invalid_string", param="consent_collection[terms_of_service]")
        if promotions not in (None, "auto", "none"):
            raise SimError(400, "Invalid consent_collection[promotions]: must be one of auto or none",
                           code="parameter_invalid_string", param="consent_collection[promotions]")
        consent = {"payment_method_reuse_agreement": None, "promotions": promotions or "none",
                   "terms_of_service": tos or "none"}
    text = {key: None for key in ("after_submit", "shipping_address", "submit", "terms_of_service_acceptance")}
    raw = params.get("custom_text")
    if raw not in (None, ""):
        if not isinstance(raw, dict):
            raise SimError(400, "Invalid object", param="custom_text")
        for key, value in raw.items():
            if key not in text:
                raise SimError(400, f"Received unknown parameter: custom_text[{key}]", param=f"custom_text[{key}]")
            message = value.get("message") if isinstance(value, dict) else None
            if not isinstance(message, str) or not message or len(message) > 1200:
                raise SimError(400, f"Invalid custom_text[{key}][message]: a string of 1 to 1200 characters",
                               param=f"custom_text[{key}][message]")
            text[key] = {"message": message}
    if text["terms_of_service_acceptance"] and not (consent and consent["terms_of_service"] == "required"):
        raise SimError(400, "custom_text[terms_of_service_acceptance] requires "
                       "consent_collection[terms_of_service]=required.", param="custom_text")
    return consent, text


def parse_line_items(value, param: str = "line_items") -> list[dict]:
    """Line items with inline price_data/product_data -> [{name, description, currency, unit_amount, quantity}]."""
    if not value:
        raise SimError(400, "You must provide at least one line item.", code="parameter_missing", param=param)
    if not isinstance(value, list):
        raise SimError(400, "Invalid array", code="parameter_invalid_array", param=param)
    if len(value) > 100:
        raise SimError(400, "A session can have at most 100 line items.", param=param)
    items = []
    for i, raw in enumerate(value):
        p = f"{param}[{i}]"
        if not isinstance(raw, dict):
            raise SimError(400, "Invalid object", param=p)
        if raw.get("price"):
            raise SimError(404, f"No such price: '{raw['price']}'", code="resource_missing", param=f"{p}[price]")
        price_data = raw.get("price_data")
        if not isinstance(price_data, dict):
            raise SimError(400, "You must specify either `price` or `price_data` for each line item.",
                           code="parameter_missing", param=f"{p}[price_data]")
        currency = str(price_data.get("currency") or "").lower()
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise SimError(400, "Missing required param: currency.", code="parameter_missing",
                           param=f"{p}[price_data][currency]")
        if "unit_amount" not in price_data:
            raise SimError(400, "Missing required param: unit_amount.", code="parameter_missing",
                           param=f"{p}[price_data][unit_amount]")
        unit_amount = parse_int(price_data["unit_amount"], f"{p}[price_data][unit_amount]", minimum=0,
                                maximum=MAX_AMOUNT)
        product = price_data.get("product_data")
        if price_data.get("product") and not product:
            raise SimError(404, f"No such product: '{price_data['product']}'", code="resource_missing",
                           param=f"{p}[price_data][product]")
        if not isinstance(product, dict) or not product.get("name"):
            raise SimError(400, "Missing required param: name.", code="parameter_missing",
                           param=f"{p}[price_data][product_data][name]")
        quantity = parse_int(raw.get("quantity"), f"{p}[quantity]", minimum=1, maximum=999_999)
        items.append({
            "name": str(product["name"]),
            "description": str(product.get("description") or ""),
            "currency": currency,
            "unit_amount": unit_amount,
            "quantity": quantity,
            "product_metadata": parse_metadata(product.get("metadata"), f"{p}[price_data][product_data][metadata]"),
        })
    currencies = {item["currency"] for item in items}
    if len(currencies) > 1:
        raise SimError(400, "All line items must use the same currency.", param=param)
    total = sum(item["unit_amount"] * item["quantity"] for item in items)
    if total < MIN_AMOUNT:
        raise SimError(400, "The Checkout Session's total amount due must add up to at least $0.50 usd",
                       code="amount_too_small", param=param)
    if total > MAX_AMOUNT:
        raise SimError(400, "The Checkout Session's total amount due must be no more than $999,999.99",
                       code="amount_too_large", param=param)
    return items


def line_item_objects(items: list[dict]) -> tuple[list[dict], list[dict]]:
    """(line items, their products). As Stripe returns them, `price.product` is the product's id;
    the product object appears only when expanded (`line_items.data.price.product`)."""
    out, products = [], []
    created = now()
    for item in items:
        amount = item["unit_amount"] * item["quantity"]
        product = shapes.complete("product", {
            "id": new_id("prod_", 14), "created": created, "updated": created, "name": item["name"],
            "description": item["description"] or None, "metadata": item["product_metadata"]})
        products.append(product)
        out.append(shapes.complete("item", {
            "id": new_id("li_"),
            "amount_discount": 0,
            "amount_subtotal": amount,
            "amount_tax": 0,
            "amount_total": amount,
            "currency": item["currency"],
            "description": item["name"],
            "price": shapes.complete("price", {
                "id": new_id("price_"), "created": created, "currency": item["currency"],
                "product": product["id"], "unit_amount": item["unit_amount"],
                "unit_amount_decimal": str(item["unit_amount"])}),
            "quantity": item["quantity"],
        }))
    return out, products


def payment_intent_object(*, amount: int, currency: str, metadata: dict, description: str | None,
                          receipt_email: str | None, method: str = "card") -> dict:
    """The PaymentIntent a Checkout Session creates when it is confirmed (not before: API 2022-08-01)."""
    pi_id = new_id("pi_")
    return shapes.complete("payment_intent", {
        "id": pi_id,
        "amount": amount,
        "client_secret": f"{pi_id}_secret_{new_id('', 25)}",
        "created": now(),
        "currency": currency,
        "description": description,
        "metadata": dict(metadata),
        "payment_method_options": {"card": {"installments": None, "mandate_options": None, "network": None,
                                            "request_three_d_secure": "automatic"}} if method == "card"
        else {"us_bank_account": {"verification_method": "automatic"}},
        "payment_method_types": [method],
        "receipt_email": receipt_email,
    })


def charge_object(*, pi: dict, status: str, method: str, billing: dict, failure: tuple[str, str] | None = None) -> dict:
    """A charge as the pinned API version returns it: without `refunds` (expand it to see them)."""
    charge_id = new_id("ch_")
    paid = status == "succeeded"
    if method == "card":
        pm_details = {"type": "card", "card": {
            "amount_authorized": pi["amount"] if paid else None, "authorization_code": None, "brand": "visa",
            "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
            "country": "US", "exp_month": 12, "exp_year": 2034, "extended_authorization": {"status": "disabled"},
            "fingerprint": "tlSimCardFp4242", "funding": "credit",
            "incremental_authorization": {"status": "unavailable"}, "installments": None,
            "last4": "4242" if not failure else "0002", "mandate": None,
            "multicapture": {"status": "unavailable"}, "network": "visa", "network_token": {"used": False},
            "network_transaction_id": None,
            "overcapture": {"maximum_amount_capturable": pi["amount"], "status": "unavailable"},
            "regulated_status": "unregulated", "three_d_secure": None, "wallet": None}}
    else:
        pm_details = {"type": "us_bank_account", "us_bank_account": {
            "account_holder_type": "individual", "account_type": "checking", "bank_name": "STRIPE TEST BANK",
            "fingerprint": "tlSimBankFp6789", "last4": "6789", "mandate": None, "payment_reference": None,
            "routing_number": "110000000"}}
    return shapes.complete("charge", {
        "id": charge_id,
        "amount": pi["amount"],
        "amount_captured": pi["amount"] if paid else 0,
        "amount_refunded": 0,
        "balance_transaction": new_id("txn_") if paid else None,
        "billing_details": {"address": shapes.address(), "email": billing.get("email"), "name": billing.get("name"),
                            "phone": billing.get("phone"), "tax_id": None},
        "captured": paid,
        "created": now(),
        "currency": pi["currency"],
        "description": pi["description"],
        "failure_code": failure[0] if failure else None,
        "failure_message": failure[1] if failure else None,
        "metadata": dict(pi["metadata"]),
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "declined_by_network" if failure else "approved_by_network",
            "reason": "generic_decline" if failure else None,
            "risk_level": "normal",
            "risk_score": 20,
            "seller_message": "The bank did not return any further details with this decline."
            if failure else "Payment complete.",
            "type": "issuer_declined" if failure else "authorized",
        },
        "paid": paid,
        "payment_intent": pi["id"],
        "payment_method": new_id("pm_"),
        "payment_method_details": pm_details,
        "receipt_email": pi["receipt_email"],
        "receipt_url": f"https://pay.stripe.com/receipts/payment/{charge_id}",
        "status": status,
    })


def event_object(event_type: str, obj: dict, *, request_id: str | None = None,
                 idempotency_key: str | None = None) -> dict:
    return {
        "id": new_id("evt_"),
        "object": "event",
        "api_version": API_VERSION,
        "created": now(),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": event_type,
    }
