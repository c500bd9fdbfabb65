"""Template helpers that ask memorial.policy, so templates never compare roles themselves."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from memorial import policy
from memorial.memorials import gentle
from memorial.memorials.models import Role

register = template.Library()


@register.simple_tag(takes_context=True)
def allowed(context: template.Context, action: str, target: Any = None) -> bool:
    """`{% allowed "photo.edit" photo as can_edit %}`: the policy's answer for this request's user."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return policy.allows(user, policy.Action(action), target)


@register.simple_tag(takes_context=True)
def blocked(context: template.Context, action: str, target: Any = None) -> str:
    """`{% blocked "photos.upload" memorial as reason %}`: why the user's role would allow it
    but the memorial's state (archived, deletion pending) does not; "" otherwise."""
    request = context.get("request")
    user = getattr(request, "user", None)
    act = policy.Action(action)
    if policy.allows(user, act, target) or not policy.allows(user, act, target, ignore_state=True):
        return ""
    return policy.read_only_reason(act, target)


@register.filter
def role_label(value: str) -> str:
    """The translated name of a role value such as "owner"."""
    try:
        return str(Role(value).label)
    except ValueError:
        return value


@register.filter
def minutes(value: Any) -> int:
    """Whole minutes (at least one) of a timedelta, for "please wait N minutes"."""
    try:
        return max(1, round(value.total_seconds() / 60))
    except AttributeError:
        return 0


@register.simple_tag
def photo_alt(photo: Any) -> str:
    """Alternative text: the caption, and for generated pictures a plain "AI-generated" label."""
    caption = " ".join((photo.caption or "").split())
    if photo.is_generated:
        if caption:
            return _("AI-generated image: %(caption)s") % {"caption": caption}
        return _("AI-generated image without a caption")
    if getattr(photo, "is_restored", False):
        if caption:
            return _("AI-restored photo: %(caption)s") % {"caption": caption}
        return _("AI-restored photo without a caption")
    return caption or _("Photo without a caption")


@register.simple_tag
def ai_feature(name: str, memorial: Any) -> bool:
    """`{% ai_feature "speaking" memorial as on %}`: has the family left this AI feature on?"""
    return gentle.feature_enabled(memorial, gentle.AIFeature(name))


@register.simple_tag
def content_note(video: Any) -> str:
    """What a video shows, who made it and when: read before anyone presses play."""
    return gentle.content_note(video)
