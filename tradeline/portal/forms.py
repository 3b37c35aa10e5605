from decimal import Decimal, InvalidOperation

from django import forms

from tradeline.brokers.models import MarkupType
from tradeline.brokers.validators import clean_markup_fixed
from tradeline.core.errors import ApplicationError
from tradeline.core.money import usd_to_cents


class LoginForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "username",
                                                                             "autofocus": True}))
    password = forms.CharField(max_length=200, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class MarkupForm(forms.Form):
    """The broker's markup. Percent of the base price, or a fixed dollar amount per tradeline."""

    markup_type = forms.ChoiceField(choices=MarkupType.choices, widget=forms.RadioSelect)
    markup_percent = forms.DecimalField(
        required=False, min_value=Decimal(0), max_value=Decimal(100), max_digits=6, decimal_places=3,
        label="Markup (% of base price)",
    )
    markup_fixed_usd = forms.CharField(required=False, max_length=12, label="Markup (fixed $ per tradeline)")

    def clean_markup_fixed_usd(self) -> int:
        text = (self.cleaned_data.get("markup_fixed_usd") or "").strip().lstrip("$")
        if not text:
            return 0
        try:
            cents = usd_to_cents(text)
        except (ValueError, InvalidOperation):
            raise forms.ValidationError("Enter a dollar amount such as 150 or 149.99.") from None
        try:
            return clean_markup_fixed(cents)
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean(self):
        data = super().clean()
        if data.get("markup_type") == MarkupType.PERCENTAGE and data.get("markup_percent") is None:
            self.add_error("markup_percent", "Enter a percentage from 0 to 100.")
        return data

    def settings(self) -> dict:
        """Keyword arguments for brokers.services.broker_update_settings."""
        data = self.cleaned_data
        if data["markup_type"] == MarkupType.PERCENTAGE:
            return {"markup_type": MarkupType.PERCENTAGE, "markup_percent": data["markup_percent"]}
        return {"markup_type": MarkupType.FIXED, "markup_fixed": data["markup_fixed_usd"]}
