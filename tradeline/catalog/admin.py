from django.contrib import admin

from tradeline.catalog.models import CatalogSync, Tradeline
from tradeline.core.admin_utils import MoneyReadOnlyAdmin


@admin.register(Tradeline)
class TradelineAdmin(MoneyReadOnlyAdmin):
    money_fields = ("price", "credit_limit")
    list_display = ("card_id", "bank_name", "credit_limit_usd", "date_opened", "stock", "price_usd",
                    "is_available", "synced_at")
    list_filter = ("is_available", "bank_name")
    search_fields = ("card_id", "bank_name")


@admin.register(CatalogSync)
class CatalogSyncAdmin(admin.ModelAdmin):
    list_display = ("created_at", "status", "rows_received", "rows_stored", "rows_skipped", "finished_at")
    readonly_fields = [f.name for f in CatalogSync._meta.fields]
