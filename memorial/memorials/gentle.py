"""Gentle viewing: who sees AI-made items, what the family allows at all, and what AI-made items
may never be (a cover photo, a picture in a message, words in the person's own voice).

Whether a user may see an AI-made photo or video is decided by memorial.policy
(``Action.VIEW_AI_PHOTOS`` / ``VIEW_AI_VIDEOS``, which read the member's own choice here);
this module holds the choice itself, the owner's feature switches, the counts and the words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from memorial import policy
from memorial.memorials.models import AI_MADE_KINDS, Membership, Memorial, Photo, PhotoKind


class AIFeature(StrEnum):
    """An AI feature the owner can switch off for one memorial (a boolean on Memorial)."""

    GENERATION = "generation"
    RESTORATION = "restoration"
    SPEAKING = "speaking"
    FILMS = "films"


FEATURE_FIELDS: dict[AIFeature, str] = {
    AIFeature.GENERATION: "ai_generation_enabled",
    AIFeature.RESTORATION: "ai_restoration_enabled",
    AIFeature.SPEAKING: "ai_speaking_enabled",
    AIFeature.FILMS: "ai_films_enabled",
}


def feature_enabled(memorial: Memorial, feature: AIFeature) -> bool:
    return bool(getattr(memorial, FEATURE_FIELDS[AIFeature(feature)]))


def feature_refusal(memorial: Memorial, feature: AIFeature) -> str:
    """Why the feature may not be used here ("" when it may): the family switched it off."""
    if feature_enabled(memorial, feature):
        return ""
    names = {
        AIFeature.GENERATION: _("Making AI-made photos"),
        AIFeature.RESTORATION: _("Photo restoration"),
        AIFeature.SPEAKING: _("Making speaking portraits"),
        AIFeature.FILMS: _("Making films"),
    }
    return _(
        "%(feature)s is turned off for this memorial by its family. An owner can turn it on "
        "again under “AI features”."
    ) % {"feature": names[AIFeature(feature)]}


def training_refusal(memorial: Memorial) -> str:
    """A model is trained only to make photos or films: refused when both are switched off."""
    if feature_enabled(memorial, AIFeature.GENERATION) or feature_enabled(
        memorial, AIFeature.FILMS
    ):
        return ""
    return _(
        "Making AI-made photos and films are both turned off for this memorial by its family, "
        "so there is nothing to train a model for."
    )


# --- What AI-made items may not be.

#: Words that make a caption speak as the person ("I", "I'm", "me", "my", "我").
FIRST_PERSON = re.compile(r"(?i)(\b(i|i'm|i’m|i've|i'll|i'd|me|my|mine|myself)\b|我)")


def first_person_problem(text: str) -> str:
    """Why ``text`` may not go with an AI-made item ("" when it may): an AI-made picture must
    not carry a message in the first person, as if from the person who died."""
    if not FIRST_PERSON.search(text or ""):
        return ""
    return _(
        "A caption on an AI-made item may not speak as the person (with “I”, “me” or “my”). "
        "Please describe the picture instead, for example “Grandma at the lake”."
    )


def cover_problem(photo: Photo | None) -> str:
    """Why ``photo`` may not be the memorial's cover ("" when it may)."""
    if photo is not None and photo.kind in AI_MADE_KINDS:
        return _("An AI-made photo cannot be the cover photo. Please choose a real photo.")
    return ""


def message_picture(memorial: Memorial) -> Photo | None:
    """The only picture an e-mail or notification about ``memorial`` may show: its cover or its
    newest real photo, never an AI-made one."""
    cover = memorial.cover_photo
    if cover is not None and not cover.hidden and cover.kind == PhotoKind.UPLOADED:
        return cover
    return (
        memorial.photos.filter(hidden=False, kind=PhotoKind.UPLOADED)
        .order_by("-created_at")
        .first()
    )


# --- Counting real and AI-made items.


@dataclass(frozen=True)
class Counts:
    """How many items a memorial has: real photos, AI-made photos and (AI-made) videos."""

    real: int
    ai_photos: int
    videos: int

    @property
    def ai(self) -> int:
        return self.ai_photos + self.videos

    @property
    def label(self) -> str:
        """ "30 photos · 4 AI-made": real photos first, AI-made items counted apart."""
        text = ngettext("%(n)d photo", "%(n)d photos", self.real) % {"n": self.real}
        if self.ai:
            text += " · " + _("%(n)d AI-made") % {"n": self.ai}
        return text


def _videos(memorial: Memorial) -> QuerySet:
    from django.apps import apps

    if not apps.is_installed("memorial.videos"):
        return QuerySet().none()
    return apps.get_model("videos", "Video").objects.filter(memorial=memorial, hidden=False)


def counts(memorial: Memorial) -> Counts:
    photos = memorial.photos.filter(hidden=False)
    return Counts(
        real=photos.filter(kind=PhotoKind.UPLOADED).count(),
        ai_photos=photos.filter(kind__in=AI_MADE_KINDS).count(),
        videos=_videos(memorial).count(),
    )


def makers(memorial: Memorial) -> dict[str, list[str]]:
    """Who made the AI-made items here and on whose consent: for the first-visit explanation."""
    from memorial.consent.models import Status

    people = {
        str(p.uploaded_by)
        for p in memorial.photos.filter(
            kind__in=AI_MADE_KINDS, hidden=False, uploaded_by__isnull=False
        )
        .select_related("uploaded_by")
        .distinct()[:50]
    }
    people |= {str(v.created_by) for v in _videos(memorial).filter(created_by__isnull=False)[:50]}
    consent = [
        _("%(name)s (%(relationship)s)") % {"name": r.attester_name, "relationship": r.relationship}
        for r in memorial.consent_records.filter(status=Status.APPROVED).order_by("created_at")
    ]
    return {"people": sorted(people), "consent": consent}


# --- The member's choice.


@dataclass(frozen=True)
class Viewing:
    """What one user sees of a memorial's AI-made items, and what is hidden from them."""

    photos: bool
    videos: bool
    chosen: bool
    can_choose: bool
    hidden_photos: int
    hidden_videos: int

    @property
    def hidden(self) -> int:
        return self.hidden_photos + self.hidden_videos

    @property
    def asks(self) -> bool:
        """Show the first-visit explanation and choice: a member who has not chosen yet, on a
        memorial that holds AI-made items."""
        return self.can_choose and not self.chosen and self.hidden > 0


def viewing(user: Any, memorial: Memorial, item_counts: Counts | None = None) -> Viewing:
    item_counts = item_counts or counts(memorial)
    photos = policy.allows(user, policy.Action.VIEW_AI_PHOTOS, memorial)
    videos = policy.allows(user, policy.Action.VIEW_AI_VIDEOS, memorial)
    choice = policy.viewing_choice(user, memorial) or {}
    return Viewing(
        photos=photos,
        videos=videos,
        chosen=choice.get("viewing_chosen_at") is not None,
        can_choose=policy.allows(user, policy.Action.CHOOSE_VIEWING, memorial),
        hidden_photos=0 if photos else item_counts.ai_photos,
        hidden_videos=0 if videos else item_counts.videos,
    )


class Choice(StrEnum):
    """The three answers a member can give."""

    ALL = "all"  # AI-made photos and speaking and living portraits
    PHOTOS = "photos"  # AI-made photos, no portraits
    REAL = "real"  # only real photos


CHOICE_FLAGS: dict[Choice, tuple[bool, bool]] = {
    Choice.ALL: (True, True),
    Choice.PHOTOS: (True, False),
    Choice.REAL: (False, False),
}


def current_choice(user: Any, memorial: Memorial) -> Choice | None:
    choice = policy.viewing_choice(user, memorial)
    if not choice or choice["viewing_chosen_at"] is None:
        return None
    flags = (choice["show_ai_photos"], choice["show_ai_videos"])
    for name, wanted in CHOICE_FLAGS.items():
        if wanted == flags:
            return name
    return Choice.ALL if flags[1] else Choice.REAL


def not_chosen_yet(user: Any, memorial: Memorial) -> bool:
    """A member who may choose what they see here and has not. A page they came to for AI-made
    pictures (the job they started, the model they trained) hides them and offers the choice in
    one click there, rather than sending them to find "What you see"."""
    allowed = policy.allows(user, policy.Action.CHOOSE_VIEWING, memorial)
    return allowed and current_choice(user, memorial) is None


def save_choice(user: Any, memorial: Memorial, photos: bool, videos: bool) -> None:
    """Record the member's choice (caller checked CHOOSE_VIEWING)."""
    Membership.objects.filter(memorial=memorial, user=user).update(
        viewing_chosen_at=timezone.now(), show_ai_photos=photos, show_ai_videos=videos
    )
    policy.forget_roles(user)


def seeing_refusal(kind: str) -> str:
    """The 403 reason for an AI-made file the viewer chose not to see."""
    if kind == "video":
        return _(
            "You chose not to see speaking and living portraits in this memorial. You can change "
            "this under “What you see” in the memorial's menu."
        )
    return _(
        "You chose to see only real photos in this memorial. You can change this under “What "
        "you see” in the memorial's menu."
    )


def content_note(video: Any) -> str:
    """What a video is before anyone presses play: "AI-made video of <name> speaking with a
    recording of their voice, made by <member> on <date>"."""
    maker = str(video.created_by) if video.created_by_id else _("a family member")
    made_on = date_format(timezone.localtime(video.created_at), "DATE_FORMAT")
    values = {"name": video.memorial.name, "member": maker, "date": made_on}
    if video.kind == "talking":
        return (
            _(
                "AI-made video of %(name)s speaking with a recording of their voice, made by "
                "%(member)s on %(date)s."
            )
            % values
        )
    return _("AI-made film of %(name)s, made by %(member)s on %(date)s.") % values
