from django.contrib import admin

from tradeline.audit.models import ActivityLog


@admin.register(ActivityLog)
class ActivityLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "entity_type", "entity_id", "actor_type", "actor_user", "broker")
    list_filter = ("action", "entity_type", "actor_type")
    search_fields = ("entity_id", "action")
    readonly_fields = [f.name for f in ActivityLog._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
