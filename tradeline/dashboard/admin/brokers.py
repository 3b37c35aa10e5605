"""Brokers in the admin: list, onboarding, and a detail page with the actions an admin takes
(approve, suspend, set the revenue share, rotate keys, set the portal password, edit the profile),
each through brokers.services, plus the broker's performance."""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse

from tradeline.analytics.selectors import broker_performance, daily_sales
from tradeline.brokers import services
from tradeline.brokers.models import AdminProfile, AdminToken, Broker, BrokerApiKey, BrokerStatus
from tradeline.core.money import format_usd
from tradeline.dashboard.admin_base import (
    ObjectActionsMixin,
    ReadOnlyAdmin,
    back_to,
    can_write,
    run_service,
    status_column,
)
from tradeline.dashboard.forms import RotateKeysForm, ShareForm
from tradeline.payouts.connect_selectors import payout_method
from tradeline.payouts.selectors import broker_earnings

BROKER_ACTIONS = ("approve", "suspend", "deactivate", "share", "rotate-keys", "password", "profile")


class BrokerCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField()
    business_name = forms.CharField(max_length=200, required=False)
    website = forms.URLField(required=False, assume_scheme="https")
    revenue_share_percent = forms.DecimalField(max_digits=5, decimal_places=2, required=False,
                                               help_text="Empty: the default share.")


class BrokerProfileForm(forms.Form):
    name = forms.CharField(max_length=200)
    business_name = forms.CharField(max_length=200, required=False)
    email = forms.EmailField()
    phone = forms.CharField(max_length=40, required=False)
    website = forms.URLField(required=False, assume_scheme="https")
    allowed_origins = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                      help_text="Websites that may use the publishable key, one per line "
                                                "(e.g. https://shop.example.com).")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data["allowed_origins"] = [line.strip() for line in data["allowed_origins"].replace(",", "\n").splitlines()
                                   if line.strip()]
        return data


class PortalPasswordForm(forms.Form):
    password = forms.CharField(min_length=10, max_length=200, widget=forms.PasswordInput(render_value=False),
                               help_text="At least 10 characters. Give it to the broker over a safe channel.")


@admin.register(Broker)
class BrokerAdmin(ObjectActionsMixin, ReadOnlyAdmin):
    object_actions = BROKER_ACTIONS
    money_fields = ('markup_fixed',)
    list_display = ("name", "business_name", "email", "status_col", "share_col", "markup_col", "payout_col",
                    "created_at")
    list_filter = ("status", "markup_type")
    search_fields = ("name", "business_name", "email")
    list_select_related = ("connected_account",)

    status_col = status_column()

    @admin.display(description="payout method")
    def payout_col(self, obj):
        account = getattr(obj, "connected_account", None)  # reverse one-to-one, joined by list_select_related
        return f"Stripe ({account.state.lower().replace('_', ' ')})" if account else "manual"

    @admin.display(description="share", ordering="revenue_share_percent")
    def share_col(self, obj):
        return f"{obj.revenue_share_percent.normalize():f}%"

    @admin.display(description="markup")
    def markup_col(self, obj):
        if obj.markup_type == "FIXED":
            return f"{format_usd(obj.markup_fixed)} fixed"
        return f"{obj.markup_percent.normalize():f}%"

    def has_add_permission(self, request, *args):
        return can_write(request)

    def get_urls(self):
        return self.action_urlpatterns() + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):
        if not can_write(request):
            raise Http404
        form = BrokerCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            broker = run_service(request, lambda: services.broker_create(
                name=data["name"], email=data["email"], business_name=data["business_name"],
                website=data["website"], revenue_share_percent=data["revenue_share_percent"],
                actor_user=request.user), lambda b: f"Broker {b} created (pending approval).")
            if broker is not None:
                return back_to(reverse("admin:brokers_broker_change", args=[broker.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": "Add broker",
                   "form": form}
        return TemplateResponse(request, "admin/brokers/broker/add.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        broker = self.get_object(request, unquote(object_id))
        if broker is None:
            raise Http404("Broker not found")
        bound = getattr(request, "_tl_forms", {})
        earnings = broker_earnings(broker=broker)
        context = {
            "broker": broker,
            "performance": broker_performance(broker=broker),
            "sales_series": daily_sales(broker=broker, days=30),
            "earnings": earnings,
            "pm": payout_method(broker=broker),
            "keys": BrokerApiKey.objects.filter(broker=broker).order_by("revoked_at", "-created_at")[:10],
            "share_form": bound.get("share") or ShareForm(initial={"percent": broker.revenue_share_percent}),
            "rotate_form": RotateKeysForm(),
            "password_form": bound.get("password") or PortalPasswordForm(),
            "profile_form": bound.get("profile") or BrokerProfileForm(initial={
                "name": broker.name, "business_name": broker.business_name, "email": broker.email,
                "phone": broker.phone, "website": broker.website, "notes": broker.notes,
                "allowed_origins": "\n".join(broker.allowed_origins or []),
            }),
            "new_keys": getattr(request, "_tl_new_keys", None),
            "statuses": BrokerStatus,
        }
        return self.detail_response(request, broker, "admin/brokers/broker/detail.html", title=str(broker),
                                    extra_context=extra_context, **context)

    def perform_action(self, request, obj, action):
        return _broker_action(self, request, obj, action)


def _broker_action(model_admin: BrokerAdmin, request, broker: Broker, action: str):
    url = model_admin.change_url(broker)
    user = request.user
    if action == "approve":
        run_service(request, lambda: services.broker_approve(broker_id=broker.pk, actor_user=user),
                    f"{broker} is approved (ACTIVE).")
    elif action == "suspend":
        reason = request.POST.get("reason", "")[:500]
        run_service(request, lambda: services.broker_suspend(broker_id=broker.pk, actor_user=user, reason=reason),
                    f"{broker} is suspended: its keys stop working until it is approved again.")
    elif action == "deactivate":
        run_service(request, lambda: services.broker_deactivate(broker_id=broker.pk, actor_user=user),
                    f"{broker} is deactivated.")
    elif action == "share":
        form = ShareForm(request.POST)
        if not form.is_valid():
            return model_admin.rerender_invalid(request, broker, "share", form)
        percent = form.cleaned_data["percent"]
        run_service(request, lambda: services.broker_set_share(broker_id=broker.pk, percent=percent, actor_user=user),
                    lambda b: f"Revenue share set to {b.revenue_share_percent.normalize():f}%; "
                              "it applies to new orders.")
    elif action == "rotate-keys":
        form = RotateKeysForm(request.POST)
        kind = (form.cleaned_data["kind"] or None) if form.is_valid() else None
        issued = run_service(request, lambda: services.broker_keys_rotate(broker_id=broker.pk, kind=kind,
                                                                           actor_user=user),
                             "New keys issued; the old ones stopped working. Copy them now: they are not shown again.")
        if issued:
            request._tl_new_keys = issued
            return model_admin.change_view(request, str(broker.pk))  # shown once, never stored
    elif action == "password":
        form = PortalPasswordForm(request.POST)
        if not form.is_valid():
            return model_admin.rerender_invalid(request, broker, "password", form)
        run_service(request, lambda: services.broker_set_password(broker_id=broker.pk,
                                                                  password=form.cleaned_data["password"],
                                                                  actor_user=user),
                    "Portal password set.")
    elif action == "profile":
        form = BrokerProfileForm(request.POST)
        if not form.is_valid():
            return model_admin.rerender_invalid(request, broker, "profile", form)
        run_service(request, lambda: services.broker_admin_update(broker_id=broker.pk, actor_user=user,
                                                                  **form.service_fields()),
                    "Profile saved.")
    return back_to(url)


@admin.register(BrokerApiKey)
class BrokerApiKeyAdmin(ReadOnlyAdmin):
    list_display = ("prefix", "broker", "kind", "created_at", "revoked_at", "last_used_at")
    list_filter = ("kind",)
    search_fields = ("prefix", "broker__name")
    exclude = ("key_hash",)


@admin.register(AdminProfile)
class AdminProfileAdmin(admin.ModelAdmin):
    """Admin roles: managed by superusers (Django's own permissions)."""

    list_display = ("user", "role")
    list_filter = ("role",)


@admin.register(AdminToken)
class AdminTokenAdmin(ReadOnlyAdmin):
    list_display = ("prefix", "user", "created_at", "expires_at", "revoked_at")
    exclude = ("key_hash",)
