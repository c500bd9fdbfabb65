"""Admin for consent records and withdrawals; reviewing happens on the staff review pages."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from memorial.consent.models import ConsentRecord, Withdrawal
from memorial.policy import consent_review_conflict


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    """The decision (status, reviewer, reason) is read-only here: it is taken on the review page
    or over the API, where the policy checks who may take it and the owners are told. Someone
    the policy keeps from reviewing a record cannot change it here either."""

    list_display = ["memorial", "attester_name", "basis", "status", "created_at"]
    list_filter = ["status", "basis"]
    search_fields = ["attester_name", "memorial__name"]
    exclude = ["evidence"]
    readonly_fields = [
        "memorial",
        "attested_by",
        "created_at",
        "status",
        "status_changed_at",
        "reviewed_by",
        "review_reason",
    ]

    def has_change_permission(self, request: HttpRequest, obj: ConsentRecord | None = None) -> bool:
        if obj is not None and consent_review_conflict(request.user, obj) is not None:
            return False
        return super().has_change_permission(request, obj)


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
