"""Payout emails: "payout sent" to the broker (HTML + text, templates emails/payout_sent.*, which an
operator can override: core/mail.py), "payout failed" to ADMIN_EMAILS.

Sent after the transaction that recorded the outcome has committed; a mail failure is logged (payout
id only, never an address) and never changes the payout.
"""

import logging

from django.conf import settings

from tradeline.core.mail import send_rendered_email, send_templated_email
from tradeline.core.money import format_usd
from tradeline.payouts.models import Payout

logger = logging.getLogger(__name__)


def _context(payout: Payout) -> dict:
    broker = payout.broker
    return {"payout": payout, "broker": broker, "broker_name": broker.business_name or broker.name,
            "period": f"{payout.period_start:%B %Y}", "amount": format_usd(payout.total_amount),
            "report_url": f"{settings.PUBLIC_BASE_URL}/portal/payouts/{payout.pk}/report.csv",
            "admin_url": f"{settings.PUBLIC_BASE_URL}/admin/payouts/payout/{payout.pk}/change/"}


def send_payout_sent(*, payout: Payout) -> bool:
    adjustments = format_usd(payout.total_adjustments) if payout.total_adjustments else ""
    return send_templated_email("payout_sent", to=[payout.broker.email],
                                context=_context(payout) | {"adjustments": adjustments})


def send_payout_failed(*, payout: Payout, reason: str) -> bool:
    if not settings.ADMIN_EMAILS:
        logger.warning("payout %s failed and ADMIN_EMAILS is empty: nobody was emailed", payout.pk)
        return False
    # SMTP trouble must not undo a recorded payout: core.mail logs it and returns False.
    return send_rendered_email(template="payouts/email/admin_payout_failed",
                               subject=f"Payout failed: {payout.period_start:%Y-%m}", to=list(settings.ADMIN_EMAILS),
                               context=_context(payout) | {"reason": reason}, about=f"payout {payout.pk}")
