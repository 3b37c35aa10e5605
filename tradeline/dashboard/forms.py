"""Forms of the admin actions. They validate shape and units; the services enforce the rules."""

from datetime import date
from decimal import InvalidOperation

from django import forms
from django.conf import settings

from tradeline.brokers.models import Broker
from tradeline.core.money import usd_to_cents
from tradeline.orders.models import PaymentMethod


def _dollars_to_cents(text: str, *, field: str, required: bool) -> int | None:
    text = (text or "").strip().lstrip("$").replace(" ", "")
    if not text:
        if required:
            raise forms.ValidationError(f"Enter the {field}.")
        return None
    try:
        cents = usd_to_cents(text)
    except (ValueError, InvalidOperation):
        raise forms.ValidationError("Enter an amount in dollars, such as 120 or 120.50.") from None
    if cents <= 0:
        raise forms.ValidationError("The amount must be more than $0.00.")
    return cents


class ManualPaymentForm(forms.Form):
    method = forms.ChoiceField(choices=[(m, m.title()) for m in (PaymentMethod.CASH, PaymentMethod.WIRE,
                                                                  PaymentMethod.CHECK)])
    reference = forms.CharField(max_length=200, help_text="Receipt, wire or check number.")


class RefundForm(forms.Form):
    amount = forms.CharField(required=False, max_length=20, label="Amount ($)",
                             help_text="Leave empty to refund everything not yet refunded.")
    reason = forms.CharField(required=False, max_length=200)

    def clean_amount(self) -> int | None:
        return _dollars_to_cents(self.cleaned_data.get("amount", ""), field="amount", required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(required=False, max_length=500)


class ShareForm(forms.Form):
    percent = forms.DecimalField(max_digits=5, decimal_places=2, label="Revenue share (%)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["percent"].help_text = (
            f"Allowed: {settings.BROKER_SHARE_MIN}% to {settings.BROKER_SHARE_MAX}% of the base price."
        )


class RotateKeysForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "Both keys"), ("PUBLISHABLE", "Publishable only"),
                                      ("SECRET", "Secret only")], required=False)


def _last_month() -> tuple[int, int]:
    today = date.today()
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


class PayoutRunForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2100)
    month = forms.IntegerField(min_value=1, max_value=12)
    broker = forms.ModelChoiceField(queryset=None, required=False, empty_label="All brokers with earnings")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["broker"].queryset = Broker.objects.order_by("name")
        if not self.is_bound:
            year, month = _last_month()
            self.initial.setdefault("year", year)
            self.initial.setdefault("month", month)


class MarkPaidForm(forms.Form):
    transaction_id = forms.CharField(max_length=200, label="Transaction id",
                                     help_text="The bank or ACH reference of the transfer.")
    notes = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
