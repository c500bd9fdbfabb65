"""What a withdrawal deletes, in words a family reads: "4 AI-made photos" with their
thumbnails, "A model of Laura, trained on 3 Dec", never file names, job ids or "64 px, step 76"
(those stay in the staff preview and the audit log)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from memorial.memorials.models import AI_MADE_KINDS, Memorial, Photo


@dataclass
class PlainGroup:
    """One line of the confirmation: a sentence, and the thumbnails or lines under it."""

    kind: str
    sentence: str
    thumbnails: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def _ids(items: list[Any], kind: str) -> list[str]:
    return [item.id for item in items if item.kind == kind]


def _photo_groups(ids: list[str]) -> list[PlainGroup]:
    photos = list(Photo.objects.filter(pk__in=ids).order_by("created_at"))
    made = [p for p in photos if p.kind in AI_MADE_KINDS]
    uploaded = [p for p in photos if p.kind not in AI_MADE_KINDS]
    groups = []
    if made:
        n = len(made)
        sentence = ngettext("%(n)d AI-made photo", "%(n)d AI-made photos", n) % {"n": n}
        groups.append(PlainGroup("photo", sentence, [p.media_url("thumb") for p in made]))
    if uploaded:
        n = len(uploaded)
        sentence = ngettext(
            "%(n)d photo the family uploaded", "%(n)d photos the family uploaded", n
        ) % {"n": n}
        groups.append(PlainGroup("upload", sentence, [p.media_url("thumb") for p in uploaded]))
    return groups


def _model_group(ids: list[str], memorial: Memorial) -> list[PlainGroup]:
    from memorial.jobs.models import ModelVersion

    models = list(ModelVersion.objects.filter(pk__in=ids).order_by("created_at"))
    if not models:
        return []
    n = len(models)
    sentence = ngettext("%(n)d trained model", "%(n)d trained models", n) % {"n": n}
    lines = [
        _("A model of %(name)s, trained on %(date)s")
        % {"name": memorial.name, "date": date_format(m.created_at, "MONTH_DAY_FORMAT")}
        for m in models
    ]
    return [PlainGroup("model", sentence, lines=lines)]


def _video_group(ids: list[str]) -> list[PlainGroup]:
    from memorial.videos.models import Video

    videos = list(Video.objects.filter(pk__in=ids).order_by("created_at"))
    if not videos:
        return []
    n = len(videos)
    sentence = ngettext("%(n)d AI-made video", "%(n)d AI-made videos", n) % {"n": n}
    posters = [reverse("videos:poster", kwargs={"video_id": v.pk}) for v in videos if v.poster]
    return [PlainGroup("video", sentence, posters)]


def _recording_group(ids: list[str]) -> list[PlainGroup]:
    """Voice recordings, each said by who added it and when (never its file name)."""
    from memorial.videos.models import VoiceRecording

    recordings = list(
        VoiceRecording.objects.filter(pk__in=ids)
        .select_related("uploaded_by")
        .order_by("created_at")
    )
    if not recordings:
        return []
    n = len(recordings)
    sentence = ngettext("%(n)d voice recording", "%(n)d voice recordings", n) % {"n": n}
    lines = [
        _("A recording of %(seconds)d seconds, added by %(who)s on %(date)s")
        % {
            "seconds": round(r.duration),
            "who": _display_name(r.uploaded_by),
            "date": date_format(r.created_at, "MONTH_DAY_FORMAT"),
        }
        for r in recordings
    ]
    return [PlainGroup("recording", sentence, lines=lines)]


def _display_name(user: Any) -> str:
    if user is None:
        return _("someone no longer here")
    return user.get_full_name() or user.get_username()


#: The kinds a family knows by name, in the order they are listed; anything else is a stored file.
_KNOWN = ("photo", "video", "model", "recording", "job")


def _counted(kind: str, n: int) -> PlainGroup:
    sentences = {
        "photo": ngettext("%(n)d photo", "%(n)d photos", n),
        "video": ngettext("%(n)d AI-made video", "%(n)d AI-made videos", n),
        "model": ngettext("%(n)d trained model", "%(n)d trained models", n),
        "recording": ngettext("%(n)d voice recording", "%(n)d voice recordings", n),
        "job": ngettext(
            "%(n)d record of the computer's work (training, photos made)",
            "%(n)d records of the computer's work (training, photos made)",
            n,
        ),
        "file": ngettext("%(n)d stored file", "%(n)d stored files", n),
    }
    return PlainGroup(
        kind, sentences.get(kind, ngettext("%(n)d item", "%(n)d items", n)) % {"n": n}
    )


def plain_groups(items: list[Any], memorial: Memorial) -> list[PlainGroup]:
    """The items to delete, grouped and said plainly, the ones a family knows first."""
    groups = _photo_groups(_ids(items, "photo"))
    groups += _video_group(_ids(items, "video"))
    groups += _model_group(_ids(items, "model"), memorial)
    groups += _recording_group(_ids(items, "recording"))
    if n := len(_ids(items, "job")):
        groups.append(_counted("job", n))
    if n := sum(1 for item in items if item.kind not in _KNOWN):
        groups.append(_counted("file", n))
    return groups


def counted_groups(refs: list[dict]) -> list[PlainGroup]:
    """What a withdrawal removed (or could not remove yet), counted in words. The items are gone
    from the database by then, so only their kinds are known: "4 photos", "1 trained model"."""
    counts: dict[str, int] = {}
    for ref in refs:
        kind = ref["kind"] if ref["kind"] in _KNOWN else "file"
        counts[kind] = counts.get(kind, 0) + 1
    order = [*_KNOWN, "file"]
    return [_counted(kind, counts[kind]) for kind in order if kind in counts]
