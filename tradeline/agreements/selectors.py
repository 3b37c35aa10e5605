"""Reads of the agreement app."""

from tradeline.agreements.models import AgreementAcceptance, AgreementVersion


def agreement_current() -> AgreementVersion | None:
    """The latest published version (the one checkout requires)."""
    return AgreementVersion.objects.order_by("-version").first()


def agreement_get(*, version: int) -> AgreementVersion | None:
    return AgreementVersion.objects.filter(version=version).first()


def agreement_out(row: AgreementVersion) -> dict:
    return {"version": row.version, "title": row.title, "body": row.body, "text_sha256": row.text_sha256,
            "published_at": row.created_at.isoformat()}


def acceptance_for(*, order_id) -> AgreementAcceptance | None:
    return (AgreementAcceptance.objects.select_related("accepted_by")
            .filter(order_id=order_id).first())


def acceptance_out(row: AgreementAcceptance | None) -> dict | None:
    """The evidence as shown to admins and sent with a dispute."""
    if row is None:
        return None
    return {
        "version": row.version, "text_sha256": row.text_sha256, "accepted_at": row.accepted_at.isoformat(),
        "client_ip": row.client_ip, "user_agent": row.user_agent, "email": row.email,
        "accepted_by": row.accepted_by.get_username() if row.accepted_by_id else None,
        "stripe_consent": row.stripe_consent or None, "stripe_session_id": row.stripe_session_id or None,
    }
