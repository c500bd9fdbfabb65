"""Private video files: every request passes the permission policy first; local files answer
HTTP Range requests (206) so the browser's player can seek."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from memorial import policy
from memorial.core.private_media import serve_private
from memorial.memorials.gentle import seeing_refusal
from memorial.videos.models import Video


def _video(request: HttpRequest, video_id) -> Video:
    video = get_object_or_404(Video.objects.select_related("memorial"), pk=video_id)
    policy.require(request.user, policy.Action.VIEW_PHOTOS, video)
    if video.hidden:
        raise Http404
    # Every video is AI-made: shown only to those who chose to see portraits (and staff).
    if not policy.allows(request.user, policy.Action.VIEW_AI_VIDEOS, video):
        raise PermissionDenied(seeing_refusal("video"))
    return video


def video_file(request: HttpRequest, video_id) -> HttpResponse:
    video = _video(request, video_id)
    return serve_private(
        video.file,
        content_type="video/mp4",
        download_name=f"{video.get_kind_display()}-{video.pk}.mp4".replace(" ", "-").lower(),
        as_attachment=request.GET.get("download") == "1",
        request=request,
    )


def video_poster(request: HttpRequest, video_id) -> HttpResponse:
    video = _video(request, video_id)
    return serve_private(
        video.poster, content_type="image/png", download_name=f"poster-{video.pk}.png"
    )
