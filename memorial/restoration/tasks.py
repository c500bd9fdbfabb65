"""The Celery task that restores one photo on a worker (queue ``cpu``: OpenCV, the ncnn
enlarger and the small networks of gan_engine.restore on the CPU).

Like every job it starts in :func:`memorial.jobs.runner.running` (ledger, lease; no consent
record is needed for restoring a photo alone; colourising and enlarging look at the family's
other photos of the person (their colours; their face, which the face enlarger is taught for a
few CPU-minutes and then forgets) only when ``may_use(memorial, TRAINING)`` allows it, asked here
when the job runs, so a consent withdrawn meanwhile is honoured) and reports through its Reporter: the step in
words, the percentage, and a preview of the result stored like a training's sample grid. The
result is written by the engine's one door for AI-made files (``write_image``: the visible
"AI-restored" mark, the invisible watermark and a C2PA manifest naming the original as its
ingredient and the actions taken), then stored as a new gallery item of kind *restored* linked to
its original. The original is only read, never written.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.core.files import File
from django.utils.translation import gettext_noop

from memorial.consent.gate import may_use
from memorial.consent.models import Scope
from memorial.jobs import files, retirement, runner
from memorial.jobs.models import State
from memorial.jobs.tasks import LIMITS, _run
from memorial.jobs.texts import join, t, text
from memorial.memorials.ingest import UploadRejected, ingest_photo
from memorial.memorials.models import Photo, PhotoKind
from memorial.provenance import signing

log = logging.getLogger(__name__)
PREVIEW_EDGE = 640

#: The engine's steps and notes (gan_engine.restore.pipeline), as message ids to translate.
WORDS = {
    "Looking at the photo.": gettext_noop("Looking at the photo."),
    "Finding scratches and dust.": gettext_noop("Finding scratches and dust."),
    "Enlarging the photo.": gettext_noop("Enlarging the photo."),
    "Done.": gettext_noop("Writing the restored photo and signing it."),
    "This photo is already in colour, so it was not colourised.": gettext_noop(
        "This photo is already in colour, so it was not colourised."
    ),
    "Colourising is not available yet; the photo keeps its tones.": gettext_noop(
        "Colourising is not available yet; the photo keeps its tones."
    ),
    "No scratches, dust or noise were found; nothing was repaired.": gettext_noop(
        "No scratches, dust or noise were found; nothing was repaired."
    ),
    "Smoothing grain and noise.": gettext_noop("Smoothing grain and noise."),
    "Grain, noise or compression blocks were smoothed.": gettext_noop(
        "Grain, noise or compression blocks were smoothed."
    ),
    "The photo had faded; its dark tones were brought back.": gettext_noop(
        "The photo had faded; its dark tones were brought back."
    ),
    "Finding the colours.": gettext_noop("Finding the colours."),
    "Colouring the photo.": gettext_noop("Colouring the photo."),
    "Keeping the faces as they are.": gettext_noop("Keeping the faces as they are."),
    "Faces were enlarged gently so they keep the person's likeness.": gettext_noop(
        "Faces were enlarged gently so they keep the person's likeness."
    ),
    "No face was found, so the whole photo was enlarged by the general enlarger.": gettext_noop(
        "No face was found, so the whole photo was enlarged by the general enlarger."
    ),
    "A photo this large already holds its detail, so it was enlarged by a plain, faster method.": (
        gettext_noop(
            "A photo this large already holds its detail, so it was enlarged by a plain, faster "
            "method."
        )
    ),
    "The person's face was not found in the colour photos, so they could not guide it.": (
        gettext_noop(
            "The person's face was not found in the family's colour photos, so they could not "
            "guide the colours."
        )
    ),
    "Colours were taught by the person's own colour photos.": gettext_noop(
        "The colours were taught by the family's colour photos of the person."
    ),
    "The colours are the colour model's best guess; add colour hints where you know the "
    "colour.": gettext_noop(
        "The colours are the colour model's best guess; add colour points where you know the "
        "colour."
    ),
    "The colours are the colour model's, corrected by your colour hints.": gettext_noop(
        "The colours are the colour model's, corrected by your colour points."
    ),
    "Learning the person's colours from their photos.": gettext_noop(
        "Learning the person's colours from the family's photos."
    ),
    "Learning the person's face from their photos.": gettext_noop(
        "Learning the person's face from the family's photos."
    ),
    "Faces were enlarged by a model taught the person's own face from their photos.": (
        gettext_noop(
            "Faces were enlarged by a model taught the person's own face from the family's photos."
        )
    ),
    "None of the person's photos showed their face large enough to learn from, so faces were "
    "enlarged by the general face model.": gettext_noop(
        "None of the family's photos showed the person's face large enough to learn from, so "
        "faces were enlarged by the general face model."
    ),
}
#: The family's other photos guide the colours only under approved consent for training.
NO_CONSENT = gettext_noop(
    "The family's colour photos of the person were not used for the colours: that needs "
    "approved consent for training."
)
#: At most this many of the family's photos are looked at for the person's colours and face.
MAX_REFERENCES = 8
READY = gettext_noop("The restored photo is ready.")
NOTHING = gettext_noop("Nothing needed doing, so no restored copy was made.")
CANCELLED = gettext_noop("Cancelled; no restored photo was made.")
GONE = gettext_noop("The photo no longer exists.")


def _said(english: str):
    """The engine's English words as a message in the reader's language where we know them."""
    return t(WORDS[english]) if english in WORDS else text(english)


@shared_task(bind=True, name="memorial.restoration.restore", **LIMITS)
def restore(self, job_id: str) -> str:
    return _run(self, job_id, _restore)


def _blocked(run: runner.Run) -> str | None:
    refusal = retirement.refusal_to_store(run.job)
    if not refusal:
        return None
    runner.finish(run.job, State.BLOCKED, error=refusal, message=refusal)
    return "blocked"


def _restore(run: runner.Run) -> str:
    from gan_engine.errors import Cancelled, EngineError
    from gan_engine.restore import Options
    from gan_engine.restore import restore as engine_restore
    from gan_engine.restore.colour import tone_of
    from gan_engine.restore.colourise import Hint
    from gan_engine.restore.load import load_photo

    job, reporter = run.job, run.reporter
    params = job.parameters
    blocked = _blocked(run)
    if blocked:
        return blocked
    made = Photo.objects.filter(pk=job.result.get("photo") or None).first()
    if made is not None:  # a retry after the photo was stored
        return _done(run, made, [])
    original = Photo.objects.filter(pk=params.get("photo"), memorial=job.memorial).first()
    if original is None or original.hidden:
        raise EngineError(GONE)
    options = Options(
        repair=bool(params.get("repair")),
        colourise=bool(params.get("colourise")),
        enlarge=int(params.get("enlarge", 1)),
        fidelity=float(params.get("fidelity", 0.3)),
        hints=tuple(
            Hint(int(x), int(y), tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5)))
            for x, y, colour in params.get("hints") or []
        ),
    )

    def progress(fraction: float, english: str) -> None:
        reporter.update(
            percent=100.0 * fraction, step=round(100 * fraction), message=_said(english)
        )

    with tempfile.TemporaryDirectory(prefix="memorial-restore-") as scratch:
        root = Path(scratch)
        source = files.download(
            original.image.name, root / f"original{Path(original.image.name).suffix}"
        )
        image = load_photo(source)
        references, consent_notes = [], []
        colours = options.colourise and tone_of(image).monochrome
        personal = settings.RESTORE_PERSONAL_SECONDS if options.enlarge > 1 else 0.0
        personal_colour = settings.RESTORE_PERSONAL_COLOUR_SECONDS if colours else 0.0
        if personal_colour > 0 or personal > 0:
            if may_use(job.memorial, Scope.TRAINING):
                references = _references(job, original, root)
                options = replace(
                    options, personal_seconds=personal, personal_colour_seconds=personal_colour
                )
            elif personal_colour > 0:
                consent_notes.append(t(NO_CONSENT))
        try:
            result = engine_restore(
                image, options, progress, run.should_stop, references=references
            )
        except Cancelled:
            if run.lease.lost.is_set():
                return "lease lost"
            runner.cancelled(run, t(CANCELLED))
            return "cancelled"
        notes = [_said(note) for note in result.notes] + consent_notes
        if not result.actions:
            runner.succeed(run, percent=100.0, message=join(t(NOTHING), *notes))
            return "succeeded"
        blocked = _blocked(run)
        if blocked:
            return blocked
        path = _write(job, original, source, result, root)
        _preview(run, path)
        photo = _store(job, original, path)
    return _done(run, photo, notes)


def _references(job, original: Photo, root: Path) -> list:
    """The family's other own photos (display copies, newest first) as floats: the engine looks
    for the person in those in colour and teaches the colouriser (and the face enlarger, when
    set) the person from them. Only called under approved consent for training
    (memorial.consent.gate.may_use)."""
    from gan_engine.errors import DataError
    from gan_engine.restore.load import load_photo

    photos = [
        p
        for p in job.memorial.photos.filter(kind=PhotoKind.UPLOADED, hidden=False)
        .exclude(pk=original.pk)
        .order_by("-created_at")[: MAX_REFERENCES * 2]
        if p.ready_for_training
    ][:MAX_REFERENCES]
    loaded = []
    for photo in photos:
        field = photo.display if photo.display else photo.image
        path = root / "family" / f"{photo.pk}{Path(field.name).suffix or '.jpg'}"
        try:
            loaded.append(load_photo(files.download(field.name, path)))
        except DataError:
            log.warning("could not read photo %s as a colour reference", photo.pk)
    return loaded


def _write(job, original: Photo, source: Path, result, root: Path) -> Path:
    """The restored PNG, through the engine's one door for AI-made files."""
    from gan_engine.outputs import write_image
    from gan_engine.restore.load import to_uint8

    provenance = signing.for_restored(
        memorial=job.memorial,
        item_id=f"restored/{job.pk}",
        original=source.read_bytes(),
        original_type=original.content_type,
        actions=tuple(result.actions),
    )
    return write_image(
        to_uint8(result.image),
        root / "out" / "restored.png",
        kind="restored",
        metadata={"actions": ",".join(result.actions), "tone": result.tone.tone},
        provenance=provenance,
    )


def _preview(run: runner.Run, path: Path) -> None:
    """A small copy of the result as the job's preview (served like a training's samples)."""
    from PIL import Image

    job = run.job
    try:
        with tempfile.TemporaryDirectory(prefix="memorial-preview-") as scratch:
            picture = Image.open(path)
            picture.thumbnail((PREVIEW_EDGE, PREVIEW_EDGE))
            preview = Path(scratch) / "preview.png"
            picture.save(preview)
            key = files.upload(
                preview, files.prefix(job.memorial_id, job.pk, "samples", "preview.png")
            )
            old = job.sample.name
            job.sample.name = key
            run.reporter.update(force=True, sample=key, result={**job.result, "sample_step": 1})
            if old and old != key:
                files.delete(old)
    except Exception:  # a preview is a courtesy; the restored photo matters
        log.warning("could not store a preview of job %s", job.pk, exc_info=True)


def _store(job, original: Photo, path: Path) -> Photo:
    with path.open("rb") as handle:
        try:
            return ingest_photo(
                memorial=job.memorial,
                uploaded=File(handle, name="restored.png"),
                user=job.requested_by,
                attested=True,
                caption=original.caption,
                taken_on=original.taken_on,
                place=original.place,
                kind=PhotoKind.RESTORED,
                restored_from=original,
            )
        except UploadRejected as rejected:
            if rejected.existing is not None:
                return rejected.existing
            from gan_engine.errors import EngineError

            raise EngineError(str(rejected.message)) from None


def _done(run: runner.Run, photo: Photo, notes: list) -> str:
    ready = t(READY)
    runner.succeed(
        run,
        step=100,
        percent=100.0,
        message=join(ready, *notes) if notes else ready,
        result={**run.job.result, "photo": str(photo.pk), "photo_url": photo.get_absolute_url()},
    )
    return "succeeded"
