from django.contrib import admin

from tradeline.brokers.models import AdminProfile, AdminToken, Broker, BrokerApiKey
from tradeline.core.admin_utils import money_column


class ApiKeyInline(admin.TabularInline):
    model = BrokerApiKey
    fields = ("kind", "prefix", "created_at", "revoked_at", "last_used_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Broker)
class BrokerAdmin(admin.ModelAdmin):
    list_display = ("name", "business_name", "email", "status", "revenue_share_percent", "markup_type",
                    "markup_percent", "markup_fixed_usd", "created_at")
    list_filter = ("status", "markup_type")
    search_fields = ("name", "business_name", "email")
    exclude = ("password", "markup_fixed")
    readonly_fields = ("approved_at", "approved_by", "markup_fixed_usd")
    inlines = [ApiKeyInline]
    markup_fixed_usd = money_column("markup_fixed", "fixed markup")


@admin.register(AdminProfile)
class AdminProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "role")
    list_filter = ("role",)


@admin.register(AdminToken)
class AdminTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "created_at", "expires_at", "revoked_at")
    exclude = ("key_hash",)
    readonly_fields = ("prefix", "user", "expires_at")
