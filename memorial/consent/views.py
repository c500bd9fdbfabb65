"""Consent pages: the memorial's records, a new record, withdrawal, and the evidence file.

Review (approve / reject) is staff work and comes with its own interface; here the
family records and withdraws consent. Every request passes memorial.policy.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from memorial.consent import services
from memorial.consent.forms import ConsentForm, sniff_evidence
from memorial.consent.models import ConsentRecord, Scope, Status, Withdrawal
from memorial.consent.plain import counted_groups, plain_groups
from memorial.core.private_media import serve_private
from memorial.memorials.models import Memorial
from memorial.memorials.views import consent_panel
from memorial.moderation import items as registry
from memorial.policy import Action, allows, require

WITHDRAWABLE = services.WITHDRAWABLE


@login_required
@require_http_methods(["GET", "POST"])
def consent_list(request: HttpRequest, memorial_id) -> HttpResponse:
    memorial = get_object_or_404(Memorial, pk=memorial_id)
    require(request.user, Action.VIEW_CONSENT, memorial)
    can_manage = allows(request.user, Action.MANAGE_CONSENT, memorial)
    form = ConsentForm() if can_manage else None
    status = 200
    if request.method == "POST":
        require(request.user, Action.MANAGE_CONSENT, memorial)
        form = ConsentForm(request.POST, request.FILES)
        if form.is_valid():
            record = form.save(commit=False)
            record.memorial = memorial
            record.attested_by = request.user
            record.status = Status.PENDING
            record.status_changed_at = timezone.now()
            record.save()
            messages.success(
                request,
                _("Thank you. The consent record has been saved and is waiting for review."),
            )
            return redirect("consent:list", memorial_id=memorial.pk)
        status = 400
    context = {
        "memorial": memorial,
        "records": memorial.consent_records.select_related("attested_by", "reviewed_by"),
        "form": form,
        "can_manage": can_manage,
        "can_withdraw": allows(request.user, Action.WITHDRAW_CONSENT, memorial),
        "withdrawable": [s.value for s in WITHDRAWABLE],
        "withdrawals": memorial.withdrawals.all()[:20],
        "consent": consent_panel(memorial),
    }
    return render(request, "consent/consent_list.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def consent_withdraw(request: HttpRequest, memorial_id, record_id) -> HttpResponse:
    """GET: what withdrawing would delete, to confirm. POST: withdraw, stop and delete."""
    memorial = get_object_or_404(Memorial, pk=memorial_id)
    require(request.user, Action.WITHDRAW_CONSENT, memorial)
    record = get_object_or_404(ConsentRecord, pk=record_id, memorial=memorial)
    if record.status not in WITHDRAWABLE:
        messages.error(request, _("Only pending or approved consent can be withdrawn."))
        return redirect("consent:list", memorial_id=memorial.pk)
    if request.method == "POST":
        include_uploads = request.POST.get("include_uploads") in ("on", "1", "true")
        try:
            withdrawal = services.withdraw(
                record.pk, memorial, request.user, include_uploads=include_uploads
            )
        except services.WithdrawalError as exc:
            messages.error(request, str(exc))
            return redirect("consent:list", memorial_id=memorial.pk)
        return redirect("consent:withdrawal", memorial_id=memorial.pk, withdrawal_id=withdrawal.pk)
    planned = services.plan(record, include_uploads=False)
    uploads = registry.uploads_of(memorial.pk)
    return render(
        request,
        "consent/withdraw_confirm.html",
        {
            "memorial": memorial,
            "record": record,
            "lost": [Scope(s).label for s in services.scopes_lost(record)],
            "groups": _groups(planned),
            "plain": plain_groups(planned, memorial),
            "planned_count": len(planned),
            "uploads_count": len(uploads),
            "active_jobs": len(services.active_jobs(memorial.pk)),
            "consent": consent_panel(memorial),
        },
    )


def _groups(items) -> list[tuple[str, list]]:
    """Items by kind, each kind with its title, for the confirmation and result pages."""
    grouped: dict[str, list] = {}
    for item in items:
        kind = item["kind"] if isinstance(item, dict) else item.kind
        grouped.setdefault(kind, []).append(item)
    titles = {"file": _("Stored file")}
    return [(titles.get(k) or registry.title(k), v) for k, v in grouped.items()]


@login_required
@require_http_methods(["GET", "POST"])
def withdrawal_result(request: HttpRequest, memorial_id, withdrawal_id) -> HttpResponse:
    """What a withdrawal removed and what is still stored; POST runs the deletion again."""
    memorial = get_object_or_404(Memorial, pk=memorial_id)
    require(request.user, Action.WITHDRAW_CONSENT, memorial)
    withdrawal = get_object_or_404(Withdrawal, pk=withdrawal_id, memorial=memorial)
    if request.method == "POST":
        withdrawal = services.run(withdrawal, request.user)
        if withdrawal.remaining:
            messages.error(request, _("Some items are still stored. Please try again later."))
        else:
            messages.success(request, _("Everything has been deleted."))
        return redirect("consent:withdrawal", memorial_id=memorial.pk, withdrawal_id=withdrawal.pk)
    return render(
        request,
        "consent/withdrawal_result.html",
        {
            "memorial": memorial,
            "withdrawal": withdrawal,
            "removed": counted_groups(withdrawal.removed),
            "remaining": counted_groups(withdrawal.remaining),
            # In words only: the identifiers of what went are in the audit log, for staff.
            "consent": consent_panel(memorial),
        },
    )


@login_required
def evidence_file(request: HttpRequest, record_id) -> HttpResponse:
    record = get_object_or_404(ConsentRecord.objects.select_related("memorial"), pk=record_id)
    require(request.user, Action.VIEW_CONSENT, record)
    if not record.evidence:
        raise Http404
    try:
        with record.evidence.open("rb") as handle:
            head = handle.read(16)
    except FileNotFoundError as exc:
        raise Http404 from exc
    content_type = sniff_evidence(head) or "application/octet-stream"
    suffix = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}.get(
        content_type, ""
    )
    return serve_private(
        record.evidence,
        content_type=content_type,
        download_name=f"consent-evidence{suffix}",
        as_attachment=not content_type.startswith("image/"),
    )
