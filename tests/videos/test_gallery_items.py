"""Finished videos in the gallery (player, label, permission-checked media with HTTP ranges),
removal through the takedown/withdrawal registry, and the task's own consent check."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from memorial.consent.models import Scope
from memorial.jobs.models import Job, Kind, ModelVersion
from memorial.moderation import items
from memorial.videos.models import Video, VideoKind, VoiceRecording

pytestmark = pytest.mark.django_db
DATA = bytes(range(256)) * 40  # stands in for an MP4: the media view only moves bytes


@pytest.fixture
def video(family, face_photo):
    made = Video(
        memorial=family.memorial,
        kind=VideoKind.TALKING,
        duration=2.0,
        width=320,
        height=320,
        source_photo=face_photo,
    )
    made.file.save("video.mp4", ContentFile(DATA), save=False)
    made.poster.save("poster.png", ContentFile(b"\x89PNG fake"), save=False)
    made.save()
    return made


def test_storage_keys_carry_identifiers_only(video, family):
    prefix = f"memorials/{family.memorial.pk}/videos/{video.pk}/"
    assert video.file.name == prefix + "video.mp4"
    assert video.poster.name == prefix + "poster.png"


def test_the_gallery_shows_a_labelled_player(video, family, client_as):
    for path in (f"/m/{family.memorial.pk}/", f"/m/{family.memorial.pk}/videos/",
                 video.get_absolute_url()):  # fmt: skip
        html = client_as(family.viewer).get(path).content.decode()
        assert "<video controls" in html, path
        assert f'src="/media/videos/{video.pk}/file/"' in html
        assert f'poster="/media/videos/{video.pk}/poster/"' in html
        assert 'aria-label="AI-generated talking portrait"' in html
        assert 'class="badge badge--ai" href="/about-ai/"' in html and ">AI-generated</a>" in html


def test_the_media_view_answers_ranges_so_the_player_can_seek(video, family, client_as):
    client = client_as(family.viewer)
    url = f"/media/videos/{video.pk}/file/"
    whole = client.get(url)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert whole["Content-Type"] == "video/mp4"
    assert b"".join(whole.streaming_content) == DATA

    part = client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(DATA)}"
    assert b"".join(part.streaming_content) == DATA[100:200]

    tail = client.get(url, HTTP_RANGE="bytes=-10")
    assert tail.status_code == 206 and b"".join(tail.streaming_content) == DATA[-10:]
    rest = client.get(url, HTTP_RANGE=f"bytes={len(DATA) - 5}-")
    assert b"".join(rest.streaming_content) == DATA[-5:]

    beyond = client.get(url, HTTP_RANGE=f"bytes={len(DATA)}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(DATA)}"
    assert client_as(family.outsider).get(url, HTTP_RANGE="bytes=0-9").status_code == 404


def test_hidden_videos_are_not_served(video, family, client_as):
    items.HANDLERS["video"].hide(items.HANDLERS["video"].find([str(video.pk)]))
    client = client_as(family.owner)
    assert client.get(f"/media/videos/{video.pk}/file/").status_code == 404
    assert client.get(f"/api/videos/{video.pk}/").status_code == 404
    assert client.get(f"/api/memorials/{family.memorial.pk}/videos/").json()["count"] == 0


def test_the_api_lists_videos_as_ai_generated(video, family, client_as):
    body = client_as(family.viewer).get(f"/api/memorials/{family.memorial.pk}/videos/").json()
    [item] = body["results"]
    assert item["id"] == str(video.pk) and item["is_generated"] is True
    assert item["file_url"] == f"/media/videos/{video.pk}/file/"
    assert item["source_photo"] == str(video.source_photo_id)


def test_a_takedown_of_the_photo_removes_its_videos_and_their_files(
    video, family, django_capture_on_commit_callbacks
):
    photo_item = items.HANDLERS["photo"].find([str(video.source_photo_id)])[0]
    found = items.impact([photo_item])
    assert ("video", str(video.pk)) in {(i.kind, i.id) for i in found}
    names = [video.file.name, video.poster.name]
    with django_capture_on_commit_callbacks(execute=True):
        items.HANDLERS["video"].delete([i for i in found if i.kind == "video"])
    assert not Video.objects.exists()
    assert not any(default_storage.exists(n) for n in names)


def test_withdrawal_finds_every_video_of_the_memorial(video, family):
    if not hasattr(items, "generated_of"):
        pytest.fail("memorial.moderation.items.generated_of is missing")
    found = {(i.kind, i.id) for i in items.generated_of(family.memorial.pk)}
    assert ("video", str(video.pk)) in found
    assert ("video", str(video.pk)) not in {
        (i.kind, i.id) for i in items.generated_of(family.other_memorial.pk)
    }


def test_films_are_derived_from_their_model(family):
    job = Job.objects.create(kind="train", memorial=family.memorial, state="succeeded")
    model = ModelVersion.objects.create(
        memorial=family.memorial, job=job, checkpoint="none", resolution=64
    )
    film = Video.objects.create(
        memorial=family.memorial, kind=VideoKind.FILM, duration=1, width=64, height=64,
        source_model=model, file="x.mp4", parameters={"captions": ["smiling"]},
    )  # fmt: skip
    assert film.label == "AI-generated film: smiling"
    derived = items.derived_of(items.Item("model", str(model.pk), str(family.memorial.pk)))
    assert ("video", str(film.pk)) in {(i.kind, i.id) for i in derived}


def test_the_task_checks_voice_consent_again_and_ends_blocked(family, face_photo, consent):
    """Consent withdrawn after the job was queued: the worker refuses to render."""
    from memorial.videos import tasks

    consent(Scope.GENERATED_VIDEOS)  # the voice scope is missing
    recording = VoiceRecording.objects.create(
        memorial=family.memorial, duration=1.0, content_type="audio/wav", file="none.wav"
    )
    job = Job.objects.create(
        kind=Kind.SPEAK,
        memorial=family.memorial,
        parameters={"photo": str(face_photo.pk), "recording": str(recording.pk)},
        queue="gpu",
        total=25,
    )
    assert tasks.speak.apply(args=[str(job.pk)]).get() == "blocked"
    job.refresh_from_db()
    assert job.state == "blocked"
    assert "Use a recording of the person" in job.error
    assert not Video.objects.exists()


def test_the_task_ends_blocked_without_video_consent(family, consent):
    from memorial.videos import tasks

    consent(Scope.VOICE)
    job = Job.objects.create(
        kind=Kind.FILM, memorial=family.memorial, parameters={"seeds": [1]}, queue="gpu"
    )
    assert tasks.film.apply(args=[str(job.pk)]).get().startswith("blocked")
    job.refresh_from_db()
    assert job.state == "blocked" and "Generate videos" in job.error


def test_a_takedown_of_a_recording_takes_the_videos_that_speak_it(
    video, family, django_capture_on_commit_callbacks
):
    recording = VoiceRecording(memorial=family.memorial, duration=1.0, content_type="audio/wav")
    recording.file.save("recording.wav", ContentFile(b"RIFF"), save=True)
    Video.objects.filter(pk=video.pk).update(voice_recording=recording)
    [item] = items.HANDLERS["recording"].find([str(recording.pk)])
    found = {(i.kind, i.id) for i in items.impact([item])}
    assert found == {("recording", str(recording.pk)), ("video", str(video.pk))}
    name = recording.file.name
    with django_capture_on_commit_callbacks(execute=True):
        items.HANDLERS["recording"].delete([item])
    assert not VoiceRecording.objects.exists() and not default_storage.exists(name)
    assert ("recording", str(recording.pk)) not in {
        (i.kind, i.id) for i in items.generated_of(family.memorial.pk)
    }


def test_a_takedown_of_the_photo_that_lent_its_mouth_removes_the_video(family, face_photo):
    """A talking portrait shows the teeth of another photo of the person: taking that photo down
    takes the video with it."""
    talking = Video.objects.create(
        memorial=family.memorial, kind=VideoKind.TALKING, duration=1, width=64, height=64,
        file="x.mp4", parameters={"mouth_photo": str(face_photo.pk)},
    )  # fmt: skip
    photo_item = items.HANDLERS["photo"].find([str(face_photo.pk)])[0]
    assert ("video", str(talking.pk)) in {(i.kind, i.id) for i in items.impact([photo_item])}
