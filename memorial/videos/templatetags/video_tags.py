"""Template helpers for videos on other apps' pages (the gallery, a photo's, a model's, a job's)."""

from __future__ import annotations

from typing import Any

from django import template

from memorial import policy
from memorial.videos.models import Video

register = template.Library()


@register.simple_tag(takes_context=True)
def memorial_videos(context: template.Context, memorial: Any, limit: int = 6) -> dict[str, Any]:
    """The newest visible videos of a memorial and how many there are, for the gallery: none
    for a viewer who has not chosen to see portraits (memorials/gentle.py)."""
    user = getattr(context.get("request"), "user", None)
    if not policy.allows(user, policy.Action.VIEW_AI_VIDEOS, memorial):
        return {"items": [], "total": 0}
    videos = Video.objects.filter(memorial=memorial, hidden=False)
    return {"items": list(videos[:limit]), "total": videos.count()}


@register.simple_tag
def job_video(job: Any) -> Video | None:
    """The finished video of a speak or film job, if it is in the gallery."""
    return Video.objects.filter(job=job, hidden=False).first()


@register.filter
def seconds(value: float) -> str:
    """A length as m:ss, in whole seconds cut as a browser's player shows it (1.96 s is 0:01)."""
    total = int(float(value or 0))
    return f"{total // 60}:{total % 60:02d}"
