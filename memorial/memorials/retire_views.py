"""The owner's "Archive or delete" page, and the download of everything as a zip."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from memorial.audit.actions import AuditAction
from memorial.audit.services import record
from memorial.memorials import export, retire
from memorial.memorials.models import Memorial
from memorial.policy import Action, allows, require

_END = object()


async def _async_chunks(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    """Pull a blocking iterator in a worker thread, one chunk at a time, so that daphne
    streams it (Django would otherwise read a plain iterator whole into memory first)."""
    iterator = iter(chunks)
    while (chunk := await sync_to_async(next, thread_sensitive=True)(iterator, _END)) is not _END:
        yield chunk


def zip_response(request: HttpRequest, memorial: Memorial, user=None) -> StreamingHttpResponse:
    """The memorial's zip, streamed; recorded in the audit log (`user`: the API's caller)."""
    stream = export.build(memorial)
    content = _async_chunks(stream) if isinstance(request, ASGIRequest) else iter(stream)
    response = StreamingHttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export.filename(memorial)}"'
    response["Cache-Control"] = "private, no-store"
    record(user or request.user, AuditAction.MEMORIAL_EXPORTED, memorial)
    return response


@login_required
@require_GET
def export_zip(request: HttpRequest, memorial_id) -> StreamingHttpResponse:
    memorial = get_object_or_404(Memorial, pk=memorial_id)
    require(request.user, Action.EXPORT_MEMORIAL, memorial)
    return zip_response(request, memorial)


def _post(request: HttpRequest, memorial: Memorial) -> str | None:
    """Do the posted action; returns an error message for the form, or None."""
    action = request.POST.get("action", "")
    try:
        if action in {"archive", "unarchive"}:
            require(request.user, Action.ARCHIVE_MEMORIAL, memorial)
            retire.set_archived(memorial, request.user, action == "archive")
            messages.success(
                request,
                _("The memorial is archived: it stays viewable, but nothing can be changed.")
                if action == "archive"
                else _("The memorial is no longer archived."),
            )
        elif action == "delete":
            require(request.user, Action.DELETE_MEMORIAL, memorial)
            retire.request_deletion(memorial, request.user, request.POST.get("confirm_name", ""))
            messages.success(request, _("The memorial will be deleted on the date shown below."))
        elif action == "cancel_delete":
            require(request.user, Action.DELETE_MEMORIAL, memorial)
            retire.cancel_deletion(memorial, request.user)
            messages.success(request, _("The deletion has been cancelled. Nothing was removed."))
        else:
            return _("Please choose what to do.")
    except retire.RetireError as error:
        return str(error)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def retire_page(request: HttpRequest, memorial_id) -> HttpResponse:
    """Archive, unarchive, request or cancel deletion, and download everything."""
    memorial = get_object_or_404(Memorial, pk=memorial_id)
    require(request.user, Action.ARCHIVE_MEMORIAL, memorial)
    error = ""
    if request.method == "POST":
        error = _post(request, memorial) or ""
        if not error:
            return redirect("memorials:retire", memorial_id=memorial.pk)
    context = {
        "memorial": memorial,
        "error": error,
        "cooling_off_days": settings.MEMORIAL_DELETION_COOLING_OFF_DAYS,
        "can_delete": allows(request.user, Action.DELETE_MEMORIAL, memorial),
        "can_export": allows(request.user, Action.EXPORT_MEMORIAL, memorial),
    }
    return render(request, "memorials/retire.html", context, status=400 if error else 200)
