"""The full top-level field set of each object the local Stripe server returns, at the pinned API
version, with the value Stripe gives a field we have nothing for: null, false, an empty list, or
Stripe's default sub-object (e.g. `automatic_tax: {"enabled": false, ...}`).

`complete(kind, fields)` returns the object with every field present; builders pass only what they
know. The field sets follow Stripe's published fixtures for these resources; the contract tests
check the result against the vendored OpenAPI schemas (spec/).
"""

import copy

_NO_TEXT = {"after_submit": None, "shipping_address": None, "submit": None, "terms_of_service_acceptance": None}
_ADDRESS = {"city": None, "country": None, "line1": None, "line2": None, "postal_code": None, "state": None}
_INVOICE_CREATION = {"enabled": False, "invoice_data": {"account_tax_ids": None, "custom_fields": None,
                                                        "description": None, "footer": None, "issuer": None,
                                                        "metadata": {}, "rendering_options": None}}

_DEFAULTS: dict[str, dict] = {
    "checkout.session": {
        "adaptive_pricing": {"enabled": False}, "after_expiration": None, "allow_promotion_codes": None,
        "amount_subtotal": None, "amount_total": None,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None, "cancel_url": None, "client_reference_id": None, "client_secret": None,
        "created": 0,
        "collected_information": None, "consent": None, "consent_collection": None, "currency": None,
        "currency_conversion": None, "custom_fields": [], "custom_text": dict(_NO_TEXT), "customer": None,
        "customer_account": None, "customer_creation": "if_required", "customer_details": None,
        "customer_email": None, "discounts": [], "expires_at": None, "integration_identifier": None,
        "invoice": None, "invoice_creation": copy.deepcopy(_INVOICE_CREATION), "livemode": False, "locale": None,
        "managed_payments": None, "metadata": {}, "mode": "payment", "origin_context": None, "payment_intent": None,
        "payment_link": None, "payment_method_collection": "if_required",
        "payment_method_configuration_details": None, "payment_method_options": {},
        "payment_method_types": ["card"], "payment_status": "unpaid", "permissions": None,
        "phone_number_collection": {"enabled": False}, "recovered_from": None,
        "saved_payment_method_options": None, "setup_intent": None, "shipping_address_collection": None,
        "shipping_cost": None, "shipping_options": [], "status": "open", "submit_type": None, "subscription": None,
        "success_url": None, "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted", "url": None, "wallet_options": None,
    },
    "item": {
        "adjustable_quantity": None, "amount_discount": 0, "amount_subtotal": 0, "amount_tax": 0, "amount_total": 0,
        "currency": "usd", "description": None, "metadata": {}, "price": None, "quantity": None,
    },
    "price": {
        "active": False, "billing_scheme": "per_unit", "created": 0, "currency": "usd", "custom_unit_amount": None,
        "livemode": False, "lookup_key": None, "metadata": {}, "nickname": None, "product": None, "recurring": None,
        "tax_behavior": "unspecified", "tiers_mode": None, "transform_quantity": None, "type": "one_time",
        "unit_amount": None, "unit_amount_decimal": None,
    },
    "product": {
        "active": False, "attributes": [], "created": 0, "default_price": None, "description": None, "images": [],
        "livemode": False, "marketing_features": [], "metadata": {}, "name": "", "package_dimensions": None,
        "shippable": None, "statement_descriptor": None, "tax_code": None, "type": "service", "unit_label": None,
        "updated": 0, "url": None,
    },
    "payment_intent": {
        "amount": 0, "amount_capturable": 0, "amount_details": {"tip": {}}, "amount_received": 0,
        "application": None, "application_fee_amount": None,
        "automatic_payment_methods": None, "canceled_at": None, "cancellation_reason": None,
        "capture_method": "automatic_async", "client_secret": None, "confirmation_method": "automatic", "created": 0,
        "currency": "usd", "customer": None, "customer_account": None, "description": None,
        "excluded_payment_method_types": None, "last_payment_error": None, "latest_charge": None, "livemode": False,
        "managed_payments": None, "metadata": {}, "next_action": None, "on_behalf_of": None, "payment_method": None,
        "payment_method_configuration_details": None, "payment_method_options": {}, "payment_method_types": ["card"],
        "processing": None, "receipt_email": None, "review": None, "setup_future_usage": None, "shipping": None,
        "source": None, "statement_descriptor": None, "statement_descriptor_suffix": None,
        "status": "requires_payment_method", "transfer_data": None, "transfer_group": None,
    },
    "charge": {
        "amount": 0, "amount_captured": 0, "amount_refunded": 0, "application": None, "application_fee": None,
        "application_fee_amount": None, "balance_transaction": None,
        "billing_details": {"address": dict(_ADDRESS), "email": None, "name": None, "phone": None, "tax_id": None},
        "calculated_statement_descriptor": "TRADELINE MARKET", "captured": False, "created": 0, "currency": "usd",
        "customer": None, "description": None, "disputed": False, "failure_balance_transaction": None,
        "failure_code": None, "failure_message": None, "fraud_details": {}, "livemode": False, "metadata": {},
        "on_behalf_of": None, "outcome": None, "paid": False, "payment_intent": None, "payment_method": None,
        "payment_method_details": None, "receipt_email": None, "receipt_number": None, "receipt_url": None,
        "refunded": False, "review": None, "shipping": None, "source": None, "source_transfer": None,
        "statement_descriptor": None, "statement_descriptor_suffix": None, "status": "pending",
        "transfer_data": None, "transfer_group": None,
    },
    "refund": {
        "amount": 0, "balance_transaction": None, "charge": None, "created": 0, "currency": "usd", "customer": None,
        "customer_account": None, "destination_details": None, "metadata": {}, "payment_intent": None,
        "payment_method": None, "reason": None, "receipt_number": None, "source_transfer_reversal": None,
        "status": "succeeded", "transfer_reversal": None,
    },
    "dispute": {
        "amount": 0, "balance_transactions": [], "charge": None, "created": 0, "currency": "usd",
        "enhanced_eligibility_types": [], "evidence": None, "evidence_details": None, "is_charge_refundable": False,
        "livemode": False, "metadata": {}, "payment_intent": None, "payment_method_details": None,
        "reason": "general", "status": "needs_response",
    },
    "payment_link": {
        "active": True, "after_completion": {"hosted_confirmation": {"custom_message": None},
                                             "type": "hosted_confirmation"},
        "allow_promotion_codes": False, "application": None, "application_fee_amount": None,
        "application_fee_percent": None, "automatic_tax": {"enabled": False, "liability": None},
        "billing_address_collection": "auto", "consent_collection": None, "currency": "usd", "custom_fields": [],
        "custom_text": dict(_NO_TEXT), "customer_creation": "if_required", "inactive_message": None,
        "invoice_creation": copy.deepcopy(_INVOICE_CREATION), "livemode": False, "managed_payments": None,
        "metadata": {}, "on_behalf_of": None, "payment_intent_data": None,
        "payment_method_collection": "always", "payment_method_options": None, "payment_method_types": None,
        "phone_number_collection": {"enabled": False}, "restrictions": None, "shipping_address_collection": None,
        "shipping_options": [], "submit_type": "auto", "subscription_data": None,
        "tax_id_collection": {"enabled": False, "required": "never"}, "transfer_data": None, "url": None,
    },
}

EVIDENCE_FIELDS = (
    "access_activity_log", "billing_address", "cancellation_policy", "cancellation_policy_disclosure",
    "cancellation_rebuttal", "customer_communication", "customer_email_address", "customer_name",
    "customer_purchase_ip", "customer_signature", "duplicate_charge_documentation", "duplicate_charge_explanation",
    "duplicate_charge_id", "product_description", "receipt", "refund_policy", "refund_policy_disclosure",
    "refund_refusal_explanation", "service_date", "service_documentation", "shipping_address", "shipping_carrier",
    "shipping_date", "shipping_documentation", "shipping_tracking_number", "uncategorized_file",
    "uncategorized_text")


def empty_evidence() -> dict:
    return {**{name: None for name in EVIDENCE_FIELDS}, "enhanced_evidence": {}}


def address() -> dict:
    return dict(_ADDRESS)


def complete(kind: str, fields: dict) -> dict:
    """`fields` over Stripe's defaults for `kind`, in Stripe's order: id and object first."""
    out = {"id": fields.get("id"), "object": kind}
    out.update(copy.deepcopy(_DEFAULTS[kind]))
    out.update(fields)
    out["object"] = kind
    return out


def field_set(kind: str) -> set[str]:
    return {"id", "object", *_DEFAULTS[kind]}
