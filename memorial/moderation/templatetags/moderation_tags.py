"""Template tags of the staff pages."""

from __future__ import annotations

from django import template

from memorial.moderation.models import TakedownRequest

register = template.Library()


@register.simple_tag
def open_takedown_count() -> int:
    """Takedown requests waiting for a decision, for the staff navigation: staff see at a glance
    that a request arrived, on every staff page."""
    return TakedownRequest.objects.open().count()
