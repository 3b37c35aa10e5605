"""The broker's "payout sent" email (template emails/payout_sent.*), after the payout is marked paid."""

from tradeline.core.mail import send_templated_email
from tradeline.core.money import format_usd
from tradeline.payouts.models import Payout


def send_payout_sent(*, payout_id) -> bool:
    payout = Payout.objects.select_related("broker").filter(pk=payout_id).first()
    if payout is None:
        return False
    return send_templated_email("payout_sent", to=[payout.broker.email], context={
        "payout": payout, "broker": payout.broker, "amount": format_usd(payout.total_amount),
        "period": payout.period_start.strftime("%B %Y"),
        "adjustments": format_usd(payout.total_adjustments) if payout.total_adjustments else ""})
