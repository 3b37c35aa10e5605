"""Helpers for the Django admin: money shown in dollars, never edited by hand."""

from django.contrib import admin

from tradeline.core.money import format_usd


def money_column(field: str, label: str | None = None):
    """A read-only admin column showing an integer-cents field as dollars."""

    @admin.display(description=label or field.replace("_", " "), ordering=field)
    def column(obj) -> str:
        value = getattr(obj, field)
        return "" if value is None else format_usd(value)

    column.__name__ = f"{field}_usd"
    return column


class MoneyReadOnlyAdmin(admin.ModelAdmin):
    """Declare `money_fields`; they show as dollars and are read-only on the change page."""

    money_fields: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # The admin calls `getattr(model_admin, name)(obj)`: keep the one-argument columns unbound.
        for field in cls.money_fields:
            setattr(cls, f"{field}_usd", staticmethod(money_column(field)))

    def get_readonly_fields(self, request, obj=None):
        return tuple(super().get_readonly_fields(request, obj)) + tuple(f"{f}_usd" for f in self.money_fields)

    def get_exclude(self, request, obj=None):
        return tuple(super().get_exclude(request, obj) or ()) + self.money_fields
