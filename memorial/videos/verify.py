"""Let the public verify page link a signed video to its gallery item, for members who may see it."""

from __future__ import annotations

import uuid

from memorial import policy
from memorial.videos.models import Video


def find_video(generation: dict, user) -> Video | None:
    """The video a trusted manifest names (``video/<job id>``), if ``user`` may view it."""
    prefix, _, job_id = str(generation.get("item", "")).partition("/")
    if prefix != "video":
        return None
    try:
        job_uuid = uuid.UUID(job_id)
    except ValueError:
        return None
    video = Video.objects.select_related("memorial").filter(job_id=job_uuid).first()
    if video is None or video.hidden:
        return None
    return video if policy.allows(user, policy.Action.VIEW_PHOTOS, video) else None
