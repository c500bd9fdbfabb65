"""The Celery tasks that render videos on workers: ``speak`` (talking portrait) and ``film``
(latent walk through a trained model), both on the ``gpu`` queue.

Like memorial.jobs.tasks, every task starts in :func:`memorial.jobs.runner.running` (ledger
state, consent for "generated videos", lease, fairness) and reports through its Reporter: frames
rendered, ETA, and a live preview frame stored like the training sample grid. A talking portrait
also needs "voice" consent: checked again here, the job ends ``blocked`` without it.

The MP4 is written to a scratch folder by the engine (atomically, marked, watermarked and
C2PA-signed), then copied to storage; the :class:`Video` row is created last, so the gallery
never shows a half-written file. gan_engine is imported lazily: worker start-up must not depend
on the video engine.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from celery import shared_task
from django.core.files import File
from django.utils.translation import gettext_noop

from memorial.consent.gate import may_use
from memorial.consent.models import Scope
from memorial.jobs import files, retirement, runner, texts
from memorial.jobs.models import ModelVersion, State
from memorial.jobs.tasks import LIMITS, _run
from memorial.jobs.texts import Msg, join, t
from memorial.memorials.models import Photo, PhotoKind
from memorial.provenance import signing
from memorial.videos.models import Video, VideoKind, VoiceRecording

log = logging.getLogger(__name__)
CANCEL_POLL_SECONDS = 0.25
#: How many of the memorial's other uploaded photos a talking portrait looks through for the
#: person's own open mouth (newest first): each costs a face detection while preparing.
MOUTH_PHOTOS = 12


# --- shared parts


#: After the last frame: the MP4 is encoded, then marked and signed (C2PA) before it is stored.
WRITING = gettext_noop("Writing the video and signing it.")


class Watch:
    """The engine's ``should_cancel``, ``progress`` and ``preview`` for one run."""

    def __init__(self, run: runner.Run, working: str) -> None:
        self.run = run
        #: What the person is told while frames are made ("Moving the face."); when the last
        #: frame is done the video is encoded and signed, and the message says so.
        self.working = working
        self._phase = ""
        self.why: str | None = None
        self._next_check = 0.0
        self._first: tuple[float, int] | None = None  # (time, frames) at the first frame
        self._previews = 0

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if self.run.lease.lost.is_set():
            self.why = "lost"
        elif now >= self._next_check:
            self._next_check = now + CANCEL_POLL_SECONDS
            if self.run.reporter.cancel_requested():
                self.why = "cancel"
        return self.why is not None

    def progress(self, done: int, total: int | None = None, *_rest: Any) -> None:
        total = total or self.run.job.total or done or 1
        now = time.monotonic()
        if self._first is None:  # the rate counts rendering only, not loading and face finding
            self._first = (now, done)
        elapsed = now - self._first[0]
        rate = (done - self._first[1]) / elapsed if elapsed > 0 else 0.0
        phase = self.working if done < total else WRITING
        said = {"message": t(phase)} if phase != self._phase else {}
        self._phase = phase
        self.run.reporter.update(
            force=bool(said),
            **said,
            step=done,
            total=total,
            percent=100.0 * done / max(total, 1),
            eta_seconds=(total - done) / rate if rate > 0 else None,
            images_per_second=round(rate, 2) if rate > 0 else None,
        )

    def preview(self, frame) -> None:
        """Store the frame as the job's newest "sample" (served by /media/jobs/<id>/sample/)."""
        from gan_engine.outputs import write_image

        job, reporter = self.run.job, self.run.reporter
        self._previews += 1
        step = job.step
        try:
            with tempfile.TemporaryDirectory(prefix="memorial-preview-") as scratch:
                name = f"preview-{self._previews:06d}.png"
                path = write_image(
                    frame, Path(scratch) / name, kind="frame", metadata={"job": str(job.pk)}
                )
                old = job.sample.name
                key = files.upload(path, files.prefix(job.memorial_id, job.pk, "samples", name))
                job.sample.name = key
                reporter.update(force=True, sample=key, result={**job.result, "sample_step": step})
                if old and old != key:
                    files.delete(old)
        except Exception:  # a preview is a courtesy; the video matters
            log.warning("could not store a preview of job %s", job.pk, exc_info=True)


def _provenance(job, model_version: str = ""):
    memorial = job.memorial
    return signing.for_generated(
        memorial=memorial,
        model_version=model_version,
        item_id=f"video/{job.pk}",
        mark=signing.mark_corner(getattr(memorial, "mark_position", signing.DEFAULT_MARK)),
        scope=Scope.GENERATED_VIDEOS,
    )


def _poster(mp4: Path, folder: Path, provenance) -> Path | None:
    """The first frame of the finished video (already marked), signed as a still of it."""
    from gan_engine.outputs import write_image
    from gan_engine.video.measure import read_frames

    frames = read_frames(mp4)
    try:
        first = next(frames, None)
    finally:
        frames.close()
    if first is None:
        return None
    return write_image(
        first,
        folder / "poster.png",
        kind="frame",
        metadata={"poster_of": mp4.name},
        provenance=dataclasses.replace(provenance, mark=None),
    )


def _store(job, mp4: Path, poster: Path | None, **fields: Any) -> Video:
    """Copy the finished files to storage, then (last) create the row the gallery reads."""
    video = Video(id=uuid.uuid4(), memorial=job.memorial, job=job, created_by=job.requested_by)
    for name, value in fields.items():
        setattr(video, name, value)
    try:
        with mp4.open("rb") as handle:
            video.file.save("video.mp4", File(handle), save=False)
        if poster is not None:
            with poster.open("rb") as handle:
                video.poster.save("poster.png", File(handle), save=False)
        video.file_size = mp4.stat().st_size
        video.save(force_insert=True)
    except BaseException:
        for field in (video.file, video.poster):
            if field and field.name:
                files.delete(field.name)
        raise
    return video


def _voice_refusal(job) -> Msg | None:
    """Why the job may not use the voice recording it names (the runner checks only the job
    kind's own scope, "generated videos"), or None."""
    if not job.parameters.get("recording"):  # a living portrait or a film without sound
        return None
    decision = may_use(job.memorial, Scope.VOICE)
    return None if decision else texts.refusal(decision)


def _refused(run: runner.Run) -> str | None:
    """Voice consent missing, or consent withdrawn or the job retired while it rendered: store
    nothing, end blocked."""
    refusal = _voice_refusal(run.job) or retirement.refusal_to_store(run.job)
    if not refusal:
        return None
    runner.finish(run.job, State.BLOCKED, error=refusal, message=refusal)
    return "blocked"


def _stopped(run: runner.Run, watch: Watch) -> str:
    if watch.why == "lost":
        return "lease lost"  # another worker owns the job now; leave the ledger to it
    runner.cancelled(run, t(gettext_noop("Cancelled; no video was made.")))
    return "cancelled"


def _done(run: runner.Run, video: Video, notice: Any = None) -> str:
    ready = t(gettext_noop("The video is ready."))
    runner.succeed(
        run,
        step=run.job.total,
        percent=100.0,
        message=join(ready, notice) if notice else ready,
        result={
            **run.job.result,
            "video": str(video.pk),
            "video_url": video.get_absolute_url(),
        },
    )
    return "succeeded"


def _already_made(run: runner.Run) -> str | None:
    """A retry after the row was written: nothing left to render."""
    video = Video.objects.filter(job=run.job).first()
    return _done(run, video) if video is not None else None


# --- speak


@shared_task(bind=True, name="memorial.videos.speak", **LIMITS)
def speak(self, job_id: str) -> str:
    return _run(self, job_id, _speak)


def _speak(run: runner.Run) -> str:
    from gan_engine.errors import Cancelled, EngineError
    from gan_engine.video.talking import live as render_living
    from gan_engine.video.talking import speak as render

    job = run.job
    params = job.parameters
    refused = _refused(run)
    if refused:
        return refused
    made = _already_made(run)
    if made:
        return made
    living = bool(params.get("live"))
    photo = Photo.objects.filter(pk=params.get("photo"), memorial=job.memorial).first()
    recording = VoiceRecording.objects.filter(
        pk=params.get("recording"), memorial=job.memorial
    ).first()
    if photo is None or photo.hidden:
        raise EngineError(gettext_noop("The photo no longer exists."))
    if recording is None and not living:
        raise EngineError(gettext_noop("The voice recording no longer exists."))
    if not living:
        run.reporter.update(force=True, message=t(gettext_noop("Reading the recording.")))
    watch = Watch(run, gettext_noop("Moving the face."))
    provenance = _provenance(job)
    with tempfile.TemporaryDirectory(prefix="memorial-speak-") as scratch:
        root = Path(scratch)
        field = photo.display if photo.display else photo.image
        portrait = files.download(field.name, root / f"portrait{Path(field.name).suffix}")
        common = {
            "seed": int(params.get("seed", 0)),
            "size": int(params.get("size", 512)),
            "face_index": int(params.get("face_index", 0)),
            "progress": watch.progress,
            "should_cancel": watch.should_cancel,
            "provenance": provenance,
            "preview": watch.preview,
        }
        lenders: list[Photo] = []
        try:
            if living:
                out = root / "out" / "video.mp4"
                result = render_living(portrait, out, seconds=float(params["seconds"]), **common)
            else:
                voice_path = files.download(
                    recording.file.name, root / f"voice{Path(recording.file.name).suffix}"
                )
                lenders = _mouth_photos(photo)
                lender_paths = [
                    files.download(p.display.name, root / f"mouth-{n}{Path(p.display.name).suffix}")
                    for n, p in enumerate(lenders)
                ]
                result = render(
                    portrait,
                    voice_path,
                    root / "out" / "video.mp4",
                    max_seconds=float(params.get("max_seconds", 60.0)),
                    mouth_photos=lender_paths,
                    **common,
                )
        except Cancelled:
            return _stopped(run, watch)
        refused = _refused(run)
        if refused:
            return refused
        parameters: dict[str, Any] = {"face_index": int(params.get("face_index", 0)), "fps": 25}
        if living:
            parameters["live"] = True
        if result.mouth_photo is not None:  # taking that photo down takes this video with it
            parameters["mouth_photo"] = str(lenders[result.mouth_photo].pk)
        poster = _poster(result.path, root, provenance)
        video = _store(
            job,
            result.path,
            poster,
            kind=VideoKind.TALKING,
            duration=result.seconds,
            width=result.size[0],
            height=result.size[1],
            source_photo=photo,
            voice_recording=recording,
            seed=int(params.get("seed", 0)),
            parameters=parameters,
            notice=result.notice,
        )
    notice = (
        t(gettext_noop("The recording has no audible voice, so the portrait only blinks."))
        if result.silent
        else None
    )
    return _done(run, video, notice)


def _mouth_photos(portrait: Photo) -> list[Photo]:
    """The memorial's other photos that may lend the person's own open mouth: uploaded by the
    family (never AI-made), not hidden, newest first."""
    photos = Photo.objects.filter(
        memorial_id=portrait.memorial_id, kind=PhotoKind.UPLOADED, hidden=False
    ).exclude(pk=portrait.pk)
    return [p for p in photos.order_by("-created_at")[:MOUTH_PHOTOS] if p.display]


# --- film


@shared_task(bind=True, name="memorial.videos.film", **LIMITS)
def film(self, job_id: str) -> str:
    return _run(self, job_id, _film)


def _film(run: runner.Run) -> str:
    from gan_engine.checkpoint import CHECKPOINT_NAME
    from gan_engine.errors import Cancelled, EngineError
    from gan_engine.video.film import make_film

    job = run.job
    params = job.parameters
    refused = _refused(run)
    if refused:
        return refused
    made = _already_made(run)
    if made:
        return made
    model = ModelVersion.objects.filter(
        pk=params.get("model_version"), memorial=job.memorial
    ).first()
    if model is None:
        raise EngineError(gettext_noop("The trained model no longer exists."))
    recording = None
    if params.get("recording"):
        recording = VoiceRecording.objects.filter(
            pk=params["recording"], memorial=job.memorial
        ).first()
        if recording is None:
            raise EngineError(gettext_noop("The voice recording no longer exists."))
    run.reporter.update(force=True, message=t(gettext_noop("Loading the model.")))
    watch = Watch(run, gettext_noop("Making the frames."))
    provenance = _provenance(job, str(model.pk))
    with tempfile.TemporaryDirectory(prefix="memorial-film-") as scratch:
        root = Path(scratch)
        checkpoint = files.download(model.checkpoint, root / "model" / CHECKPOINT_NAME)
        ends: dict[str, Path | None] = {}
        for end in ("start_photo", "end_photo"):
            photo = Photo.objects.filter(pk=params.get(end) or None, memorial=job.memorial).first()
            if params.get(end) and (photo is None or photo.hidden):
                raise EngineError(gettext_noop("The photo to cross-fade with no longer exists."))
            if photo is None:
                ends[end] = None
                continue
            field = photo.display if photo.display else photo.image
            ends[end] = files.download(field.name, root / f"{end}{Path(field.name).suffix}")
        audio = None
        if recording is not None:
            audio = files.download(
                recording.file.name, root / f"audio{Path(recording.file.name).suffix}"
            )
        try:
            result = make_film(
                checkpoint,
                root / "out" / "film.mp4",
                seeds=params.get("seeds") or None,
                captions=params.get("captions") or None,
                seconds=float(params.get("seconds", 8.0)),
                fps=int(params.get("fps", 24)),
                audio_path=audio,
                start_image=ends["start_photo"],
                end_image=ends["end_photo"],
                device=params.get("device", "auto"),  # the GPU where the worker has one
                progress=watch.progress,
                should_cancel=watch.should_cancel,
                provenance=provenance,
                preview=watch.preview,
            )
        except Cancelled:
            return _stopped(run, watch)
        refused = _refused(run)
        if refused:
            return refused
        poster = _poster(Path(result.path), root, provenance)
        seeds = params.get("seeds") or []
        video = _store(
            job,
            Path(result.path),
            poster,
            kind=VideoKind.FILM,
            duration=float(result.seconds),
            width=result.size[0],
            height=result.size[1],
            source_model=model,
            voice_recording=recording,
            seed=int(seeds[0]) if seeds else 0,
            parameters={
                key: params.get(key)
                for key in ("seeds", "captions", "fps", "start_photo", "end_photo")
            },
        )
    return _done(run, video)
