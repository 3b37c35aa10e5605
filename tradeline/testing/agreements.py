"""Test setup for the Tradeline User Agreement: the consent a checkout needs, and the request
fields a customer's browser sends."""

from tradeline.agreements.selectors import agreement_current
from tradeline.agreements.services import AgreementConsent, agreement_publish


def current_agreement():
    """The published version (migration 0002 ships one; a flushed test database gets it again)."""
    return agreement_current() or agreement_publish(title="Tradeline User Agreement", body="Test agreement text.")


def agreement_consent(*, client_ip: str = "203.0.113.7", user_agent: str = "pytest-browser/1.0",
                      accepted_by=None) -> AgreementConsent:
    return AgreementConsent(version=current_agreement().version, accepted=True, client_ip=client_ip,
                            user_agent=user_agent, accepted_by=accepted_by)


def agreement_fields() -> dict:
    """The two checkout request fields of a customer who ticked the agreement."""
    return {"agreement_version": current_agreement().version, "agreement_accepted": True}
