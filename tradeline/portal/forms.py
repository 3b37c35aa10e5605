from decimal import Decimal, InvalidOperation

from django import forms

from tradeline.brokers.models import MarkupType
from tradeline.brokers.validators import clean_markup_fixed
from tradeline.core.errors import ApplicationError
from tradeline.core.money import usd_to_cents
from tradeline.widget.models import WidgetFont, WidgetSort


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


class ThemeForm(forms.Form):
    """The broker's widget theme (validated again by widget.services.widget_theme_set)."""

    title = forms.CharField(required=False, max_length=80, label="Title above the catalog")
    primary_color = forms.RegexField(required=False, regex=r"^#[0-9a-fA-F]{6}$", label="Primary colour",
                                     widget=forms.TextInput(attrs={"type": "color"}))
    text_color = forms.RegexField(required=False, regex=r"^#[0-9a-fA-F]{6}$", label="Text colour",
                                  widget=forms.TextInput(attrs={"type": "color"}))
    background_color = forms.RegexField(required=False, regex=r"^#[0-9a-fA-F]{6}$", label="Background colour",
                                        widget=forms.TextInput(attrs={"type": "color"}))
    font_family = forms.ChoiceField(choices=WidgetFont.choices, label="Font")
    corner_radius = forms.IntegerField(min_value=0, max_value=24, label="Corner radius (px)")
    columns = forms.TypedChoiceField(coerce=int, label="Columns on wide screens",
                                     choices=[(0, "As many as fit"), (1, "1"), (2, "2"), (3, "3"), (4, "4")])
    default_sort = forms.ChoiceField(choices=WidgetSort.choices, label="Default sort")
    success_url = forms.URLField(required=False, max_length=500, assume_scheme="https",
                                 label="After payment, send customers to",
                                 widget=forms.URLInput(attrs={"style": "width:100%", "placeholder": "https://"}))
    cancel_url = forms.URLField(required=False, max_length=500, assume_scheme="https",
                                label="When they cancel the payment, send them to",
                                widget=forms.URLInput(attrs={"style": "width:100%", "placeholder": "https://"}))
