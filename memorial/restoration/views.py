"""The "Restore" page of a photo: choose what to do, then follow the job."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from memorial.jobs.services import Refused
from memorial.memorials.models import Photo
from memorial.policy import Action, require
from memorial.restoration import services
from memorial.restoration.forms import RestorePhotoForm


@login_required
@require_http_methods(["GET", "POST"])
def restore(request: HttpRequest, memorial_id, photo_id) -> HttpResponse:
    photo = get_object_or_404(
        Photo.objects.select_related("memorial"), pk=photo_id, memorial_id=memorial_id
    )
    require(request.user, Action.VIEW_PHOTOS, photo)
    if photo.hidden:
        raise Http404
    require(request.user, Action.RESTORE_PHOTO, photo)
    form = RestorePhotoForm(request.POST or None, photo=photo)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                job, created = services.start_restore(
                    photo,
                    request.user,
                    repair=data["repair"],
                    colourise=data["colourise"],
                    enlarge=data["enlarge"],
                    fidelity=data["fidelity"] / 100,
                    hints=data["hints"] if data["colourise"] else [],
                )
            except Refused as refused:
                form.add_error(None, refused.message)
                status = refused.status
            else:
                if not created:
                    messages.info(request, _("This photo is already being restored."))
                return redirect(job)
        else:
            status = 400
    context = {
        "memorial": photo.memorial,
        "photo": photo,
        "form": form,
        "running": services.restoring_now(photo),
    }
    return render(request, "restoration/restore.html", context, status=status)
