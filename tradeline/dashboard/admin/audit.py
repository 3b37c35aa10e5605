from django.contrib import admin

from tradeline.audit.models import ActivityLog
from tradeline.dashboard.admin_base import ReadOnlyAdmin


@admin.register(ActivityLog)
class ActivityLogAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "entity_type", "entity_id", "actor_type", "actor_user", "broker")
    list_filter = ("action", "entity_type", "actor_type")
    search_fields = ("entity_id", "action")
    list_select_related = ("actor_user", "broker")
    date_hierarchy = "created_at"
    show_full_result_count = False
