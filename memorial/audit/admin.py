"""The audit log in the Django admin: read only, like everywhere else."""

from django.contrib import admin

from memorial.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "actor_email", "action", "target_type", "target_id"]
    list_filter = ["action"]
    search_fields = ["actor_email", "target_id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
