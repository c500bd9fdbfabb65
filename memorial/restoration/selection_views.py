"""Restoring several photos at once: the family's own photos with a checkbox each (the gallery
posts its selection here too), the same choices as for one photo, then a summary of what was
started. One job per photo; a photo already being restored keeps its job."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from memorial.memorials import gentle
from memorial.memorials.models import Memorial, PhotoKind
from memorial.policy import Action, require
from memorial.restoration import services
from memorial.restoration.forms import RestoreForm

#: More than a family restores in one go; the page stays one list, like the caption editor.
SELECTION_LIMIT = 500


def restorable(memorial: Memorial):
    """The family's own photos (AI-made ones are never restored), in the order they came."""
    return memorial.photos.filter(hidden=False, kind=PhotoKind.UPLOADED).order_by(
        "created_at", "pk"
    )


def _chosen_ids(request: HttpRequest) -> list[str]:
    chosen = []
    for value in request.POST.getlist("photo"):
        try:
            chosen.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    return chosen


@login_required
@require_http_methods(["GET", "POST"])
def restore_selected(request: HttpRequest, memorial_id) -> HttpResponse:
    memorial = get_object_or_404(Memorial, pk=memorial_id)
    require(request.user, Action.RESTORE_PHOTO, memorial)
    reason = gentle.feature_refusal(memorial, gentle.AIFeature.RESTORATION)
    if reason:
        raise PermissionDenied(reason)
    # The gallery's selection comes without the options: the form starts from their defaults.
    from_gallery = request.method == "POST" and request.POST.get("action") != "restore"
    form = RestoreForm(None if request.method == "GET" or from_gallery else request.POST)
    selected = set(_chosen_ids(request)) if request.method == "POST" else set()
    status = 200
    if request.method == "POST" and not from_gallery:
        photos = list(restorable(memorial).filter(pk__in=selected))
        if not photos:
            form.add_error(None, _("Please select at least one photo first."))
        if form.is_valid():
            data = form.cleaned_data
            outcome = services.start_selected(
                photos,
                request.user,
                repair=data["repair"],
                colourise=data["colourise"],
                enlarge=data["enlarge"],
                fidelity=data["fidelity"] / 100,
            )
            context = {"memorial": memorial, "outcome": outcome}
            return render(request, "restoration/started.html", context)
        status = 400
    context = {
        "memorial": memorial,
        "photos": list(restorable(memorial)[:SELECTION_LIMIT]),
        "selected": selected,
        "form": form,
    }
    return render(request, "restoration/select.html", context, status=status)
