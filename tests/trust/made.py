"""A memorial with everything a family can make of it, made by the real job tasks in this process:
captioned face photos uploaded, prepared (crops and manifest in storage), a tiny model trained
(checkpoint and sample grid in storage), photos generated with it (gallery items with their
GeneratedImage links) and an evaluation report stored where an evaluation job keeps its files.

Tasks run eagerly (``task.apply``) against the configured storage, so the same scene serves the
local folder and the S3 server. Listing helpers read the storage itself, never the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from memorial.consent.models import ConsentRecord, Scope, Status
from memorial.jobs.models import Job, Kind, ModelVersion, State
from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import Photo
from tests.jobs.conftest import CAPTIONS, TINY, face_photo_paths

PHOTOS = 6


@dataclass
class Made:
    consent: ConsentRecord
    uploads: list[Photo]
    prepare: Job
    train: Job
    model: ModelVersion
    generate: Job
    generated: list[Photo]
    evaluate: Job
    extra: dict = field(default_factory=dict)

    @property
    def memorial_id(self):
        return self.consent.memorial_id


def approve(memorial, *scopes: str) -> ConsentRecord:
    return ConsentRecord.objects.create(
        memorial=memorial,
        attester_name="Olive Owner",
        relationship="daughter",
        basis="next_of_kin",
        scopes=list(scopes or [Scope.TRAINING, Scope.GENERATED_PHOTOS]),
        status=Status.APPROVED,
    )


def upload_faces(family, count: int = PHOTOS) -> list[Photo]:
    photos = []
    for index, path in enumerate(face_photo_paths(count)):
        photos.append(
            ingest_photo(
                memorial=family.memorial,
                uploaded=SimpleUploadedFile(path.name, Path(path).read_bytes()),
                user=family.contributor,
                attested=True,
                caption=CAPTIONS[index % len(CAPTIONS)],
            )
        )
    return photos


def run_task(name: str, job: Job) -> str:
    from memorial.jobs import tasks

    result = getattr(tasks, name).apply(args=[str(job.pk)])
    if Job.objects.filter(pk=job.pk).exists():  # a retired job may have been deleted as it ended
        job.refresh_from_db()
    return result.get()


def make_everything(family) -> Made:
    """Upload, prepare, train, generate and store an evaluation report, with the real tasks."""
    consent = approve(family.memorial)
    uploads = upload_faces(family)
    prepare = Job.objects.create(
        kind=Kind.PREPARE,
        memorial=family.memorial,
        requested_by=family.contributor,
        parameters={"sizes": [TINY["resolution"]]},
        queue="cpu",
    )
    assert run_task("prepare", prepare) == "succeeded", prepare.error
    train = Job.objects.create(
        kind=Kind.TRAIN,
        memorial=family.memorial,
        requested_by=family.contributor,
        parameters={"engine": dict(TINY)},
        after=prepare,
        queue="gpu",
        total=TINY["steps"],
    )
    assert run_task("train", train) == "succeeded", train.error
    model = ModelVersion.objects.get(job=train)
    generate = Job.objects.create(
        kind=Kind.GENERATE,
        memorial=family.memorial,
        requested_by=family.contributor,
        parameters={
            "model_version": str(model.pk),
            "caption": "smiling",
            "count": 2,
            "seed": 5,
            "device": "cpu",
        },
        queue="gpu",
        total=2,
    )
    assert run_task("generate", generate) == "succeeded", generate.error
    generated = [g.photo for g in generate.images.select_related("photo")]
    evaluate = Job.objects.create(
        kind=Kind.EVALUATE,
        memorial=family.memorial,
        requested_by=family.contributor,
        parameters={"model_version": str(model.pk)},
        state=State.SUCCEEDED,
        queue="cpu",
    )
    # Stored where the evaluate task keeps its report: beside the model's training job.
    report = f"memorials/{family.memorial.pk}/models/{train.pk}/evaluation/{evaluate.pk}"
    default_storage.save(f"{report}/report.json", ContentFile(b'{"fid": 1.0}'))
    made = Made(consent, uploads, prepare, train, model, generate, generated, evaluate)
    made.extra["report"] = report
    made.extra["videos"] = make_videos(family, made)
    return made


def make_videos(family, made: Made) -> list:
    """A talking portrait of the first uploaded photo and a film from the model, stored the way
    the video tasks store them (file and poster through the Video's FileFields)."""
    from memorial.videos.models import Video, VideoKind

    videos = []
    for kind, photo, model in (
        (VideoKind.TALKING, made.uploads[0], None),
        (VideoKind.FILM, None, made.model),
    ):
        video = Video(
            memorial=family.memorial,
            kind=kind,
            duration=2.0,
            width=256,
            height=256,
            source_photo=photo,
            source_model=model,
            created_by=family.owner,
        )
        video.file.save("video.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42 test"), save=False)
        video.poster.save("poster.jpg", ContentFile(b"\xff\xd8\xff poster"), save=False)
        video.save()
        videos.append(video)
    return videos


def stored(memorial_id, bucket=None) -> set[str]:
    """Every key stored for the memorial, listed from the storage itself (folder or bucket)."""
    prefix = f"memorials/{memorial_id}/"
    if bucket is not None:
        return bucket.keys(prefix)
    root = Path(settings.MEDIA_ROOT)
    folder = root / prefix
    if not folder.exists():
        return set()
    return {p.relative_to(root).as_posix() for p in folder.rglob("*") if p.is_file()}


def under(keys: set[str], *parts) -> set[str]:
    prefix = "/".join(str(p) for p in parts) + "/"
    return {k for k in keys if k.startswith(prefix)}
