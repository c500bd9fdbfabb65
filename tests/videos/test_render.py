"""A real talking portrait through the product: the API starts it, the suite's real Celery
worker renders 2 seconds of a real face speaking a real (or speech-like) recording, and the
video joins the gallery — a valid, signed MP4 with sound, as long as the recording."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from gan_engine.video.audio import ffmpeg_exe
from gan_engine.video.measure import probe
from memorial.consent.models import Scope
from memorial.jobs.models import FINISHED, Job
from memorial.videos.models import Video
from tests.jobs.conftest import fresh, wait_for
from tests.videos.conftest import voice_upload

pytestmark = pytest.mark.django_db(transaction=True)
FRAME = 1 / 25


def test_a_two_second_talking_portrait_joins_the_gallery(
    celery_worker, family, face_photo, consent, client_as
):
    record = consent(Scope.GENERATED_VIDEOS, Scope.VOICE)
    client = client_as(family.contributor)
    response = client.post(
        f"/api/photos/{face_photo.pk}/speak/", {"audio": voice_upload(seconds=2.0), "seed": 7}
    )
    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["id"])

    wait_for(lambda: fresh(job).state in FINISHED, "the talking portrait to finish", 300)
    assert job.state == "succeeded", (job.error, job.message)
    assert job.step == job.total == 50
    assert job.sample.name and default_storage.exists(job.sample.name)  # the live preview

    video = Video.objects.get(job=job)
    assert job.result["video"] == str(video.pk)
    assert video.source_photo == face_photo and video.kind == "talking" and video.seed == 7
    assert abs(video.duration - 2.0) <= FRAME
    assert video.width % 2 == 0 and video.height % 2 == 0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "video.mp4"
        with default_storage.open(video.file.name, "rb") as stored:
            data = stored.read()
        path.write_bytes(data)
        streams = probe(path)
        assert "Video: h264" in streams and "yuv420p" in streams
        assert "Audio: aac" in streams
        decoded = subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "null", "-"],
            capture_output=True,
            check=False,
        )
        assert decoded.returncode == 0 and not decoded.stderr.strip(), decoded.stderr
    assert video.file_size == len(data)

    from gan_engine.provenance import verify

    signed = verify(data, "video/mp4", None)
    assert signed.verdict in ("valid", "trusted"), signed.failures
    assert signed.generation.get("consent") == str(record.pk)
    assert signed.generation.get("item") == f"video/{job.pk}"

    # The public verify page links the video for members, and only for them.
    def verify_page(as_client) -> str:
        upload = SimpleUploadedFile("video.mp4", data, content_type="video/mp4")
        return as_client.post("/verify/", {"file": upload}).content.decode()

    assert str(video.get_absolute_url()) in verify_page(client)
    assert str(video.get_absolute_url()) not in verify_page(client_as(family.outsider))

    gallery = client.get(f"/m/{family.memorial.pk}/").content.decode()
    assert f"/media/videos/{video.pk}/file/" in gallery
    played = client.get(f"/media/videos/{video.pk}/file/", HTTP_RANGE="bytes=0-1023")
    assert played.status_code == 206 and len(b"".join(played.streaming_content)) == 1024
    poster = client.get(f"/media/videos/{video.pk}/poster/")
    assert poster.status_code == 200 and poster["Content-Type"] == "image/png"


def test_a_film_from_captions_with_a_cross_fade_joins_the_gallery(
    celery_worker, family, face_photo, consent, client_as, tiny_checkpoint
):
    from memorial.jobs import files
    from memorial.jobs.models import ModelVersion

    consent(Scope.GENERATED_VIDEOS)
    train = Job.objects.create(kind="train", memorial=family.memorial, state="succeeded")
    key = files.upload(tiny_checkpoint, files.prefix(family.memorial.pk, train.pk, "model.pt"))
    model = ModelVersion.objects.create(
        memorial=family.memorial, job=train, checkpoint=key, resolution=16
    )
    response = client_as(family.owner).post(
        f"/api/models/{model.pk}/film/",
        {"captions": ["smiling", "in a garden"], "seconds": 2, "fps": 24,
         "start_photo": str(face_photo.pk)},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["id"])
    wait_for(lambda: fresh(job).state in FINISHED, "the film to finish", 300)
    assert job.state == "succeeded", (job.error, job.message)
    video = Video.objects.get(job=job)
    assert video.kind == "film" and video.source_model == model
    assert video.parameters["captions"] == ["smiling", "in a garden"]
    assert abs(video.duration - 2.0) <= 1 / 24
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "film.mp4"
        with default_storage.open(video.file.name, "rb") as stored:
            path.write_bytes(stored.read())
        assert "Video: h264" in probe(path)
    # Taking the photo down takes the film that fades in from it.
    from memorial.moderation import items

    found = items.impact(items.HANDLERS["photo"].find([str(face_photo.pk)]))
    assert ("video", str(video.pk)) in {(i.kind, i.id) for i in found}


def test_cancelling_a_render_leaves_no_video(celery_worker, family, face_photo, consent, client_as):
    consent(Scope.GENERATED_VIDEOS, Scope.VOICE)
    client = client_as(family.contributor)
    response = client.post(
        f"/api/photos/{face_photo.pk}/speak/", {"audio": voice_upload(seconds=30.0)}
    )
    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["id"])
    wait_for(lambda: fresh(job).step > 0 or job.finished, "the render to start", 300)
    assert client.post(f"/api/jobs/{job.pk}/cancel/").status_code == 200
    wait_for(lambda: fresh(job).finished, "the render to stop", 120)
    assert job.state == "cancelled" and job.step < job.total
    assert not Video.objects.exists()
    folder = f"memorials/{family.memorial.pk}/videos"
    assert not default_storage.exists(folder) or default_storage.listdir(folder) == ([], [])


def test_another_photo_of_the_person_laughing_lends_its_mouth(
    celery_worker, family, face_photo, consent, client_as
):
    """The portrait's mouth is closed; the memorial's other photo shows the person laughing: the
    video borrows that mouth and says so, so that taking the photo down takes the video too."""
    import io

    import numpy as np
    from PIL import Image

    from gan_engine.video.talking import TalkingPortrait, load_portrait
    from memorial.memorials.ingest import ingest_photo

    consent(Scope.GENERATED_VIDEOS, Scope.VOICE)
    with tempfile.TemporaryDirectory() as folder:
        laughing = Path(folder) / "laughing.jpg"
        laughing.write_bytes(face_photo.image.open("rb").read())
        silent = TalkingPortrait(load_portrait(laughing), np.zeros(8000, np.float32), size=320)
        closed = next(iter(silent.frames()))  # the same face, the mouth shut by the renderer
    buffer = io.BytesIO()
    Image.fromarray(closed).save(buffer, "JPEG", quality=92)
    portrait = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("closed.jpg", buffer.getvalue()),
        user=family.contributor,
        attested=True,
    )
    client = client_as(family.contributor)
    response = client.post(
        f"/api/photos/{portrait.pk}/speak/", {"audio": voice_upload(seconds=1.0)}
    )
    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["id"])
    wait_for(lambda: fresh(job).state in FINISHED, "the talking portrait to finish", 300)
    assert job.state == "succeeded", (job.error, job.message)
    video = Video.objects.get(job=job)
    assert video.source_photo == portrait
    assert video.parameters["mouth_photo"] == str(face_photo.pk)


def test_a_living_portrait_joins_the_gallery_without_sound(
    celery_worker, family, face_photo, consent, client_as
):
    consent(Scope.GENERATED_VIDEOS)  # no voice consent: a living portrait uses no recording
    client = client_as(family.contributor)
    response = client.post(
        f"/m/{family.memorial.pk}/photos/{face_photo.pk}/speak/",
        {"live-live": "on", "live-seed": 1, "live-face": 0},
    )
    assert response.status_code == 302
    job = Job.objects.get(kind="speak")
    wait_for(lambda: fresh(job).state in FINISHED, "the living portrait to finish", 300)
    assert job.state == "succeeded", (job.error, job.message)
    video = Video.objects.get(job=job)
    assert video.voice_recording is None and video.parameters["live"] is True
    assert video.label == "AI-generated living portrait"
    assert abs(video.duration - 6.0) <= FRAME
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "video.mp4"
        with default_storage.open(video.file.name, "rb") as stored:
            data = stored.read()
        path.write_bytes(data)
        streams = probe(path)
    assert "Video: h264" in streams and "Audio:" not in streams

    from gan_engine.provenance import verify

    assert verify(data, "video/mp4", None).verdict in ("valid", "trusted")
