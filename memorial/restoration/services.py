"""Start restoring a photo: the rules shared by the page (and any later API).

The permission (memorial.policy ``RESTORE_PHOTO``) is checked by the caller (the photo's page,
the gallery's selection, the API). Here: the family's
feature switch, the photo itself (a family photo, not an AI-made one), the size the result would
have, and at most one restoring job per photo at a time: asking again while one waits or runs
returns that job. No consent record is needed: nothing is learned from the photo. Colourising
uses the family's other photos of the person only under approved consent for training, which
the task asks (memorial.consent.gate) when it runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from memorial.jobs import dispatch
from memorial.jobs.models import QUEUES, Job, Kind, State
from memorial.jobs.services import Refused
from memorial.memorials import gentle
from memorial.memorials.models import Photo, PhotoKind


def restoring_now(photo: Photo) -> Job | None:
    """The restoring job of this photo that is waiting or running, if any."""
    return (
        Job.objects.filter(
            kind=Kind.RESTORE,
            memorial_id=photo.memorial_id,
            state__in=(State.QUEUED, State.RUNNING),
            parameters__photo=str(photo.pk),
        )
        .order_by("created_at")
        .first()
    )


def check(photo: Photo, enlarge: int) -> None:
    """Refused (with the reason and a status) when this photo may not be restored so."""
    reason = gentle.feature_refusal(photo.memorial, gentle.AIFeature.RESTORATION)
    if reason:
        raise Refused(reason, 403)
    if photo.kind != PhotoKind.UPLOADED:
        raise Refused(_("Only the family's own photos can be restored, not AI-made ones."))
    pixels = photo.width * photo.height * enlarge * enlarge
    if pixels > settings.UPLOAD_MAX_PIXELS:
        raise Refused(
            _(
                "Enlarged %(factor)d times this photo would have %(size)s megapixels, more "
                "than the %(limit)s allowed. Choose a smaller size."
            )
            % {
                "factor": enlarge,
                "size": f"{pixels / 1e6:.0f}",
                "limit": f"{settings.UPLOAD_MAX_PIXELS / 1e6:.0f}",
            }
        )


def start_restore(
    photo: Photo,
    user,
    *,
    repair: bool,
    colourise: bool,
    enlarge: int,
    fidelity: float,
    hints: list[list] | None = None,
) -> tuple[Job, bool]:
    """The restoring job for ``photo`` and whether it was created now (False: one was already
    waiting or running, and that one is returned). ``hints``: checked colour points
    (memorial.restoration.hints), for colourising."""
    check(photo, enlarge)
    with transaction.atomic():
        Photo.objects.select_for_update().filter(pk=photo.pk).first()  # one request at a time
        existing = restoring_now(photo)
        if existing is not None:
            return existing, False
        job = Job.objects.create(
            kind=Kind.RESTORE,
            memorial=photo.memorial,
            requested_by=user,
            parameters={
                "photo": str(photo.pk),
                "repair": bool(repair),
                "colourise": bool(colourise),
                "enlarge": int(enlarge),
                "fidelity": float(fidelity),
                "hints": list(hints or []),
            },
            queue=QUEUES[Kind.RESTORE],
            total=100,
        )
        dispatch.send(job)
    return job, True


@dataclass
class Started:
    """What asking to restore several photos did, photo by photo (the page's summary)."""

    started: list[tuple[Photo, Job]] = field(default_factory=list)
    already: list[tuple[Photo, Job]] = field(default_factory=list)
    refused: list[tuple[Photo, str]] = field(default_factory=list)


def start_selected(
    photos: list[Photo], user, *, repair: bool, colourise: bool, enlarge: int, fidelity: float
) -> Started:
    """One job per photo, each decided alone: a photo too large to enlarge is refused with its
    reason while the others start, and a photo already being restored keeps its one job."""
    outcome = Started()
    for photo in photos:
        try:
            job, created = start_restore(
                photo, user, repair=repair, colourise=colourise, enlarge=enlarge, fidelity=fidelity
            )
        except Refused as refused:
            outcome.refused.append((photo, str(refused.message)))
        else:
            (outcome.started if created else outcome.already).append((photo, job))
    return outcome
