"""Starting videos from the pages and the API: consent gate, bad input (a clear message, 4xx,
nothing stored) and the job that is queued. No worker here (see test_render.py)."""

from __future__ import annotations

import html
import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from memorial.consent.models import Scope
from memorial.jobs.models import Job, ModelVersion
from memorial.memorials.ingest import ingest_photo
from memorial.videos import checks
from memorial.videos.models import VoiceRecording
from tests import images
from tests.video import covers, sounds
from tests.videos import samples
from tests.videos.conftest import voice_upload

pytestmark = pytest.mark.django_db
BOTH = (Scope.GENERATED_VIDEOS, Scope.VOICE)
NOT_SPEECH = "sounds like music or noise, not like someone speaking"


def nothing_stored(memorial) -> bool:
    voice = f"memorials/{memorial.pk}/voice"
    return (
        not VoiceRecording.objects.exists()
        and not Job.objects.exists()
        and (not default_storage.exists(voice) or default_storage.listdir(voice) == ([], []))
    )


def speak_api(client, photo, **data):
    return client.post(f"/api/photos/{photo.pk}/speak/", data)


# --- consent


def test_speak_needs_video_and_voice_consent_in_page_and_api(
    family, face_photo, consent, client_as
):
    client = client_as(family.contributor)
    consent(Scope.GENERATED_VIDEOS)  # but not the voice
    page = client.get(f"/m/{family.memorial.pk}/photos/{face_photo.pk}/speak/")
    assert page.status_code == 200
    assert "Use a recording of the person" in page.content.decode()  # the refusal is shown

    response = client.post(
        f"/m/{family.memorial.pk}/photos/{face_photo.pk}/speak/",
        {"audio": voice_upload(), "seed": 0, "face": 0},
    )
    assert response.status_code == 403
    assert "No consent for" in response.content.decode()

    api = speak_api(client, face_photo, audio=voice_upload())
    assert api.status_code == 403
    assert api.json()["detail"].startswith("No consent for “Use a recording of the person")
    assert nothing_stored(family.memorial)


def test_film_needs_video_consent(family, client_as, consent):
    consent(Scope.TRAINING, Scope.GENERATED_PHOTOS)
    model = _model(family)
    client = client_as(family.owner)
    api = client.post(
        f"/api/models/{model.pk}/film/", {"seeds": [1, 2]}, content_type="application/json"
    )
    assert api.status_code == 403 and "Generate videos" in api.json()["detail"]
    page = client.post(
        f"/m/{family.memorial.pk}/models/{model.pk}/film/", {"seeds": "1, 2", "seconds": 2,
                                                              "fps": 24}
    )  # fmt: skip
    assert page.status_code == 403
    assert not Job.objects.filter(kind="film").exists()


def _model(family) -> ModelVersion:
    job = Job.objects.create(kind="train", memorial=family.memorial, state="succeeded")
    return ModelVersion.objects.create(
        memorial=family.memorial, job=job, checkpoint="none", resolution=64
    )


# --- starting


def test_the_page_uploads_a_recording_and_queues_a_talking_portrait(
    family, face_photo, consent, client_as
):
    consent(*BOTH)
    client = client_as(family.contributor)
    page = client.get(face_photo.get_absolute_url())
    assert "Make it speak" in page.content.decode()
    response = client.post(
        f"/m/{family.memorial.pk}/photos/{face_photo.pk}/speak/",
        {"audio": voice_upload("Grandma's voice.mp3", samples.transcode(samples.voice_wav(1.0), ".mp3")),
         "seed": 3, "face": 0},
    )  # fmt: skip
    job = Job.objects.get(kind="speak")
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    recording = VoiceRecording.objects.get()
    assert recording.original_filename == "Grandma's voice.mp3"
    assert recording.file.name == (
        f"memorials/{family.memorial.pk}/voice/{recording.pk}/recording.mp3"
    )  # identifiers only
    assert 0.9 < recording.duration < 1.2
    assert job.queue == "gpu" and job.total == 25
    assert job.parameters["photo"] == str(face_photo.pk)
    assert job.parameters["recording"] == str(recording.pk)
    assert job.parameters["seed"] == 3

    # A stored recording can be chosen again, through the API.
    again = speak_api(client, face_photo, recording=str(recording.pk))
    assert again.status_code == 201, again.content
    assert again.json()["kind"] == "speak" and VoiceRecording.objects.count() == 1


@pytest.mark.parametrize("suffix", [".m4a", ".ogg", ".opus", ".flac", ".wav"])
def test_every_accepted_format_decodes(suffix, family, face_photo, consent, client_as):
    consent(*BOTH)
    data = samples.transcode(samples.wav_bytes(samples.syllables(1.0), rate=44_100, channels=2),
                             suffix)  # fmt: skip
    response = speak_api(
        client_as(family.owner), face_photo, audio=voice_upload(f"v{suffix}", data)
    )
    assert response.status_code == 201, response.content


def test_film_from_captions_is_queued(family, consent, client_as):
    consent(Scope.GENERATED_VIDEOS)
    model = _model(family)
    client = client_as(family.contributor)
    page = client.get(model.get_absolute_url())
    assert "Make a film" in page.content.decode()
    response = client.post(
        f"/m/{family.memorial.pk}/models/{model.pk}/film/",
        {"captions": "smiling\n\nin a garden\nas a young man", "seconds": 3, "fps": 30},
    )
    job = Job.objects.get(kind="film")
    assert response.status_code == 302
    assert job.parameters["captions"] == ["smiling", "in a garden", "as a young man"]
    assert job.total == 90 and job.queue == "gpu"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"seeds": list(range(13))}, "no more than 12"),
        ({}, "at least one seed or one caption"),
        ({"seeds": [1], "fps": 25}, "is not a valid choice"),
        ({"seeds": [1], "seconds": 600}, "less than or equal to 60"),
    ],
)
def test_bad_film_requests_say_why(body, message, family, consent, client_as):
    consent(Scope.GENERATED_VIDEOS)
    model = _model(family)
    response = client_as(family.owner).post(
        f"/api/models/{model.pk}/film/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not Job.objects.filter(kind="film").exists()


# --- bad input: a clear message, 4xx, nothing stored


def _canvas_with_small_face() -> bytes:
    small = Image.open(io.BytesIO(samples.face_jpeg())).resize((150, 150))
    canvas = Image.new("RGB", (600, 600), (200, 190, 180))
    canvas.paste(small, (200, 200))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("upload", "status", "message"),
    [
        (lambda: voice_upload("voice.wav", images.jpeg(seed=1)), 415, "not an audio recording"),
        (lambda: voice_upload("voice.wav", b""), 400, "The recording is empty"),
        (lambda: voice_upload("voice.wav", samples.wav_bytes(samples.syllables(0.01))), 400,
         "The recording is empty"),
        (lambda: voice_upload("notes.txt", b"hello"), 415, "WAV, MP3, M4A/AAC, OGG/Opus or FLAC"),
        (lambda: voice_upload("voice.wav", samples.wav_bytes(samples.syllables(3.5))), 400,
         "longer than the limit of 3 seconds"),
        (lambda: voice_upload("voice.wav", samples.wav_bytes(sounds.silence(2.5))), 400,
         "The recording is silent"),
        (lambda: voice_upload("organ.mp3", samples.transcode(samples.wav_bytes(sounds.chord(2.5)),
                                                             ".mp3")), 400, NOT_SPEECH),
        (lambda: voice_upload("tune.wav", samples.wav_bytes(sounds.melody(2.5))), 400, NOT_SPEECH),
        (lambda: voice_upload("beat.ogg", samples.transcode(samples.wav_bytes(sounds.drums(2.5)),
                                                            ".ogg")), 400, NOT_SPEECH),
        (lambda: voice_upload("hiss.wav", samples.wav_bytes(sounds.white_noise(2.5))), 400,
         NOT_SPEECH),
    ],
    ids=["not-audio", "empty-file", "no-samples", "wrong-type", "too-long", "silent", "chord",
         "melody", "drums", "hiss"],
)  # fmt: skip
@override_settings(VIDEO_MAX_SECONDS=3)
def test_bad_recordings_are_refused_and_nothing_is_stored(
    upload, status, message, family, face_photo, consent, client_as
):
    consent(*BOTH)
    client = client_as(family.contributor)
    api = speak_api(client, face_photo, audio=upload())
    assert api.status_code == status, api.content
    assert message in api.json()["detail"]
    page = client.post(
        f"/m/{family.memorial.pk}/photos/{face_photo.pk}/speak/",
        {"audio": upload(), "seed": 0, "face": 0},
    )
    assert page.status_code == status and message in page.content.decode()
    assert nothing_stored(family.memorial)


def _photo(family, data: bytes):
    return ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("p.jpg", data),
        user=family.owner,
        attested=True,
    )


def _hand_over_the_mouth() -> bytes:
    """The face photo with a hand painted over the mouth (tests.video.covers)."""
    covered = covers.hand(Image.open(io.BytesIO(samples.face_jpeg())).resize((640, 640)))
    buffer = io.BytesIO()
    covered.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("picture", "message"),
    [
        (lambda: images.jpeg(seed=5), "No face was found in this photo"),
        (_canvas_with_small_face,
         "The face is too small to bring to life well: it is 43 pixels across, and at least 64 "
         "are needed"),
        (_hand_over_the_mouth, "The mouth is hidden (by a hand, a mask or a scarf"),
    ],
    ids=["no-face", "face-too-small", "hand-over-mouth"],
)  # fmt: skip
def test_portraits_without_a_usable_face_are_refused(picture, message, family, consent, client_as):
    consent(*BOTH)
    photo = _photo(family, picture())
    client = client_as(family.owner)
    api = speak_api(client, photo, audio=voice_upload())
    assert api.status_code == 400 and api.json()["detail"].startswith(message)
    page = client.get(f"/m/{family.memorial.pk}/photos/{photo.pk}/speak/")
    assert page.status_code == 200  # the page explains before anyone uploads
    assert message in html.unescape(page.content.decode())
    posted = client.post(
        f"/m/{family.memorial.pk}/photos/{photo.pk}/speak/",
        {"audio": voice_upload(), "seed": 0, "face": 0},
    )
    assert posted.status_code == 400 and message in html.unescape(posted.content.decode())
    assert not VoiceRecording.objects.exists() and not Job.objects.exists()


def test_a_profile_view_is_refused_with_its_reason(family, face_photo, consent, client_as,
                                                   monkeypatch):  # fmt: skip
    consent(*BOTH)
    turned = checks.Face(0, (0, 0, 200, 200), 200, 0.8, "centre")
    monkeypatch.setattr(checks, "faces_of", lambda photo: [turned])
    api = speak_api(client_as(family.owner), face_photo, audio=voice_upload())
    assert api.status_code == 400
    assert "turned away (a profile view)" in api.json()["detail"]
    assert not VoiceRecording.objects.exists()


def test_a_face_that_is_not_there_cannot_be_chosen(family, face_photo, consent, client_as):
    consent(*BOTH)
    api = speak_api(client_as(family.owner), face_photo, audio=voice_upload(), face=3)
    assert api.status_code == 400 and "shows 1 faces" in api.json()["detail"]


def test_viewers_cannot_start_and_outsiders_do_not_see(family, face_photo, consent, client_as):
    consent(*BOTH)
    assert speak_api(client_as(family.viewer), face_photo, audio=voice_upload()).status_code == 403
    assert (
        speak_api(client_as(family.outsider), face_photo, audio=voice_upload()).status_code == 404
    )
    assert not VoiceRecording.objects.exists()


# --- a living portrait


def test_a_living_portrait_needs_only_video_consent_and_no_recording(
    family, face_photo, consent, client_as
):
    client = client_as(family.contributor)
    speak_page = f"/m/{family.memorial.pk}/photos/{face_photo.pk}/speak/"
    refused = client.post(speak_page, {"live-live": "on", "live-seed": 0, "live-face": 0})
    assert refused.status_code == 403 and "No consent for" in refused.content.decode()
    assert not Job.objects.exists()

    consent(Scope.GENERATED_VIDEOS)  # the voice is not used, so not asked for
    page = client.get(speak_page).content.decode()
    assert "Bring it to life" in page and 'id="live-form"' in page
    response = client.post(speak_page, {"live-live": "on", "live-seed": 4, "live-face": 0})
    job = Job.objects.get(kind="speak")
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.parameters["live"] is True and "recording" not in job.parameters
    assert job.parameters["seed"] == 4 and job.total == 150  # 6 s at 25 fps
    assert not VoiceRecording.objects.exists()


def test_a_living_portrait_of_a_photo_without_a_face_is_refused(family, consent, client_as):
    consent(Scope.GENERATED_VIDEOS)
    wall = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("wall.jpg", images.jpeg(seed=4)),
        user=family.contributor,
        attested=True,
    )
    response = client_as(family.contributor).post(
        f"/m/{family.memorial.pk}/photos/{wall.pk}/speak/",
        {"live-live": "on", "live-seed": 0, "live-face": 0},
    )
    assert response.status_code == 400 and "No face was found" in response.content.decode()
    assert not Job.objects.exists()


def test_the_api_brings_a_photo_to_life(family, face_photo, consent, client_as):
    client = client_as(family.contributor)
    url = f"/api/photos/{face_photo.pk}/live/"
    refused = client.post(url, {"seed": 2}, content_type="application/json")
    assert refused.status_code == 403 and "Generate videos" in refused.json()["detail"]
    consent(Scope.GENERATED_VIDEOS)
    response = client.post(url, {"seed": 2}, content_type="application/json")
    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert job.kind == "speak" and job.parameters["live"] is True and job.parameters["seed"] == 2
    bad = client.post(url, {"seed": -1}, content_type="application/json")
    assert bad.status_code == 400
