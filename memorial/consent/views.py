"""Consent pages: the memorial's records, a new record, withdrawal, and the evidence file.

Review (approve / reject) is staff work and comes with its own interface; here the
family records and withdraws consent. Every request passes memorial.policy.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from memorial.consent.forms import ConsentForm, sniff_evidence
from memorial.consent.models import ConsentRecord, Status
from memorial.core.private_media import serve_private
from memorial.memorials.models import Memorial
from memorial.memorials.views import consent_panel
from memorial.policy import Action, allows, require

WITHDRAWABLE = {Status.PENDING, Status.APPROVED}


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
        "withdrawable": [s.value for s in WITHDRAWABLE],
        "consent": consent_panel(memorial),
    }
    return render(request, "consent/consent_list.html", context, status=status)


@login_required
@require_POST
def consent_withdraw(request: HttpRequest, memorial_id, record_id) -> HttpResponse:
    memorial = get_object_or_404(Memorial, pk=memorial_id)
    require(request.user, Action.MANAGE_CONSENT, memorial)
    with transaction.atomic():
        record = get_object_or_404(
            ConsentRecord.objects.select_for_update(), pk=record_id, memorial=memorial
        )
        if record.status not in WITHDRAWABLE:
            messages.error(request, _("Only pending or approved consent can be withdrawn."))
            return redirect("consent:list", memorial_id=memorial.pk)
        record.status = Status.WITHDRAWN
        record.status_changed_at = timezone.now()
        record.save(update_fields=["status", "status_changed_at"])
    messages.success(
        request,
        _("The consent has been withdrawn. Nothing new will be made from this memorial's photos."),
    )
    return redirect("consent:list", memorial_id=memorial.pk)


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
