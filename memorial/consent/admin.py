"""Admin for consent records and withdrawals; reviewing happens on the staff review pages."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from memorial.consent.models import ConsentRecord, Withdrawal


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    list_display = ["memorial", "attester_name", "basis", "status", "created_at"]
    list_filter = ["status", "basis"]
    search_fields = ["attester_name", "memorial__name"]
    exclude = ["evidence"]
    readonly_fields = ["memorial", "attested_by", "created_at", "status_changed_at", "reviewed_by"]


@admin.register(Withdrawal)
class WithdrawalAdmin(admin.ModelAdmin):
    """Read-only: a withdrawal is a record of what was deleted; changing it would rewrite history.
    Retrying a withdrawal with items remaining happens on the family's result page."""

    list_display = ["memorial", "record", "created_at", "finished_at", "runs", "complete"]
    list_filter = ["include_uploads"]
    search_fields = ["memorial__name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Withdrawal | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Withdrawal | None = None) -> bool:
        return False
