"""Writes of the agreement app: publish a version, check a checkout's consent, record the evidence.

Versions are immutable: there is no update service, the admin shows them read-only, and a new text
is always a new row (`version` unique, so two admins publishing at once cannot share a number).
"""

import hashlib
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from tradeline.agreements.models import BODY_MAX, TITLE_MAX, AgreementAcceptance, AgreementVersion
from tradeline.agreements.selectors import agreement_current
from tradeline.audit.services import activity_log
from tradeline.core.errors import Conflict, ValidationFailed

USER_AGENT_MAX = 512


def text_sha256(body: str) -> str:
    """The hash kept as evidence: SHA-256 of the exact text as UTF-8, hex."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AgreementConsent:
    """What a checkout request says about the agreement, and who/where it came from.

    `client_ip` / `user_agent` are the request's as our server saw them (REMOTE_ADDR, User-Agent);
    `accepted_by` is the admin who accepted on the customer's behalf (direct sales), else None."""

    version: int | None
    accepted: bool | None
    client_ip: str = ""
    user_agent: str = ""
    accepted_by: object | None = None


def agreement_publish(*, title: str, body: str, admin=None) -> AgreementVersion:
    """Publish a new version (the next number); it becomes the one checkout requires."""
    title = " ".join(str(title or "").split())
    body = str(body or "").replace("\r\n", "\n").strip()
    if not title or len(title) > TITLE_MAX:
        raise ValidationFailed(f"The title is required (at most {TITLE_MAX} characters).",
                               code="AGREEMENT_TITLE_INVALID", details={"field": "title"})
    if not body or len(body) > BODY_MAX:
        raise ValidationFailed(f"The text is required (at most {BODY_MAX} characters).",
                               code="AGREEMENT_BODY_INVALID", details={"field": "body"})
    try:
        with transaction.atomic():
            number = (AgreementVersion.objects.aggregate(top=Max("version"))["top"] or 0) + 1
            row = AgreementVersion.objects.create(version=number, title=title, body=body,
                                                  text_sha256=text_sha256(body), published_by=admin)
            activity_log(action="agreement.published", entity=row, actor_user=admin,
                         metadata={"version": number, "text_sha256": row.text_sha256})
    except IntegrityError as exc:  # another admin published the same number at the same moment
        raise Conflict("Another version was published at the same time; reload and try again.",
                       code="AGREEMENT_PUBLISH_CONFLICT") from exc
    return row


def agreement_require(consent: AgreementConsent | None) -> AgreementVersion:
    """The version the customer accepted, which must be the current one (checked before any write).

    422 AGREEMENT_REQUIRED when the acceptance or the version is missing or not true;
    422 AGREEMENT_OUTDATED when it names another version than the current one."""
    current = agreement_current()
    details = {"current_version": current.version if current else None}
    if consent is None or consent.accepted is not True or consent.version is None:
        raise ValidationFailed("The customer must accept the Tradeline User Agreement.",
                               code="AGREEMENT_REQUIRED", details={"field": "agreement_accepted", **details})
    if current is None or consent.version != current.version:
        raise ValidationFailed("The agreement was updated; the customer must accept the current version.",
                               code="AGREEMENT_OUTDATED", details={"field": "agreement_version", **details})
    return current


def acceptance_record(*, order, agreement: AgreementVersion, consent: AgreementConsent) -> AgreementAcceptance:
    """The order's evidence, written in the order's own creating transaction (one per order)."""
    row = AgreementAcceptance.objects.create(
        order=order, agreement=agreement, version=agreement.version, text_sha256=agreement.text_sha256,
        accepted_at=timezone.now(), client_ip=(consent.client_ip or "")[:64],
        user_agent=(consent.user_agent or "")[:USER_AGENT_MAX], email=order.customer_email,
        accepted_by=consent.accepted_by,
    )
    activity_log(action="agreement.accepted", entity=row, broker_id=order.broker_id,
                 actor_user=consent.accepted_by,
                 metadata={"version": agreement.version, "text_sha256": agreement.text_sha256,
                           "order_number": order.order_number, "client_ip": row.client_ip,
                           "on_behalf": consent.accepted_by is not None})
    return row


def acceptance_stripe_consent(*, order_id, session_id: str | None, consent: str | None) -> bool:
    """Record Stripe's `consent.terms_of_service` from the completed Checkout Session, once: a
    repeated or later event never overwrites it. True when this call stored it."""
    value = str(consent or "")[:32]
    if not value:
        return False
    updated = AgreementAcceptance.objects.filter(order_id=order_id, stripe_consent="").update(
        stripe_consent=value, stripe_session_id=str(session_id or "")[:255], stripe_consent_at=timezone.now())
    return bool(updated)
