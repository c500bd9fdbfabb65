"""Private photo files: every request passes the permission policy first."""

from __future__ import annotations

from pathlib import PurePosixPath

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from memorial import policy
from memorial.core.private_media import serve_private
from memorial.memorials.gentle import seeing_refusal
from memorial.memorials.models import Photo
from memorial.memorials.originals import CONTENT_TYPES

VARIANTS = {"original": "image", "display": "display", "thumb": "thumbnail"}


def photo_file(request: HttpRequest, photo_id, variant: str) -> HttpResponse:
    if variant not in VARIANTS:
        raise Http404
    photo = get_object_or_404(Photo.objects.select_related("memorial"), pk=photo_id)
    policy.require(request.user, policy.Action.VIEW_PHOTOS, photo)
    if photo.hidden:
        raise Http404
    if photo.is_ai_made and not policy.allows(request.user, policy.Action.VIEW_AI_PHOTOS, photo):
        raise PermissionDenied(seeing_refusal("photo"))
    field = getattr(photo, VARIANTS[variant])
    suffix = PurePosixPath(field.name).suffix
    stem = PurePosixPath(photo.original_filename or str(photo.pk)).stem or str(photo.pk)
    return serve_private(
        field,
        content_type=CONTENT_TYPES.get(suffix, "image/jpeg"),
        download_name=f"{stem}{'' if variant == 'original' else '-' + variant}{suffix}",
        as_attachment=request.GET.get("download") == "1",
    )
