"""Admin for consent records; reviewing happens on the staff review pages."""

from __future__ import annotations

from django.contrib import admin

from memorial.consent.models import ConsentRecord


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    list_display = ["memorial", "attester_name", "basis", "status", "created_at"]
    list_filter = ["status", "basis"]
    search_fields = ["attester_name", "memorial__name"]
    exclude = ["evidence"]
    readonly_fields = ["memorial", "attested_by", "created_at", "status_changed_at", "reviewed_by"]
