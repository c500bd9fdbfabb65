"""Voice recordings: they go when voice consent is withdrawn (listed on the confirmation page
first), their uploader or an owner can delete one from the page that lists them or over the
API (the videos that speak it go with it), and the zip export holds them."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from memorial.audit.models import AuditEntry
from memorial.consent.models import Scope, Withdrawal
from memorial.jobs.models import Job, Kind, State
from memorial.videos.models import Video, VideoKind, VoiceRecording
from tests.jobs.conftest import approve
from tests.trust.made import stored, under
from tests.videos import samples

pytestmark = pytest.mark.django_db


def _recording(family, user, name: str = "grandma.wav") -> VoiceRecording:
    recording = VoiceRecording(
        memorial=family.memorial,
        uploaded_by=user,
        duration=1.0,
        content_type="audio/wav",
        original_filename=name,
    )
    recording.file.save("recording.wav", ContentFile(samples.voice_wav(1.0)), save=False)
    recording.save()
    return recording


def _video_speaking(family, recording: VoiceRecording) -> Video:
    video = Video(
        memorial=family.memorial,
        kind=VideoKind.TALKING,
        duration=1.0,
        width=64,
        height=64,
        voice_recording=recording,
    )
    video.file.save("video.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42 test"), save=False)
    video.save()
    return video


def _gone(recording: VoiceRecording) -> bool:
    return not VoiceRecording.objects.filter(pk=recording.pk).exists() and not (
        default_storage.exists(recording.file.name)
    )


# --- withdrawing voice consent


def test_withdrawing_voice_consent_deletes_the_recordings(family, client_as):
    record = approve(family.memorial, Scope.GENERATED_VIDEOS, Scope.VOICE)
    recording = _recording(family, family.contributor)
    _video_speaking(family, recording)
    owner = client_as(family.owner)
    url = f"/m/{family.memorial.pk}/consent/{record.pk}/withdraw/"

    page = owner.get(url).content.decode()
    # Listed, in plain words, before the owner confirms: who added the recording, and the video.
    assert 'data-kind="recording"' in page and "1 voice recording" in page
    assert "added by" in page and recording.original_filename not in page
    assert 'data-kind="video"' in page and "1 AI-made video" in page

    assert owner.post(url).status_code == 302
    withdrawal = Withdrawal.objects.get()
    assert withdrawal.complete
    assert ("recording", str(recording.pk)) in {(r["kind"], r["id"]) for r in withdrawal.removed}
    assert _gone(recording) and not Video.objects.exists()
    m = family.memorial.pk
    assert not under(stored(m), "memorials", m, "voice")
    assert AuditEntry.objects.filter(action="recording.deleted", target_id=str(recording.pk))


def test_a_recording_made_after_the_first_run_goes_when_it_runs_again(family, client_as):
    """Voice still withdrawn: running the deletion again takes recordings stored meanwhile (a
    talking-portrait request that was already under way)."""
    record = approve(family.memorial, Scope.GENERATED_VIDEOS, Scope.VOICE)
    owner = client_as(family.owner)
    owner.post(f"/m/{family.memorial.pk}/consent/{record.pk}/withdraw/")
    withdrawal = Withdrawal.objects.get()
    late = _recording(family, family.contributor)

    owner.post(f"/m/{family.memorial.pk}/consent/withdrawals/{withdrawal.pk}/")
    assert _gone(late)
    withdrawal.refresh_from_db()
    assert withdrawal.complete and withdrawal.runs == 2


def test_withdrawing_consent_that_does_not_end_voice_keeps_the_recordings(family, client_as):
    approve(family.memorial, Scope.VOICE)  # another approved record still covers the voice
    record = approve(family.memorial, Scope.TRAINING, Scope.VOICE)
    recording = _recording(family, family.contributor)
    client_as(family.owner).post(f"/m/{family.memorial.pk}/consent/{record.pk}/withdraw/")
    assert VoiceRecording.objects.filter(pk=recording.pk).exists()
    assert default_storage.exists(recording.file.name)


# --- deleting one recording


def test_the_videos_page_lists_recordings_with_delete_for_uploader_and_owner(family, client_as):
    mine = _recording(family, family.contributor, "contributor.wav")
    owners = _recording(family, family.owner, "owner.wav")
    url = f"/m/{family.memorial.pk}/videos/"

    def delete_links(user) -> set:
        page = client_as(user).get(url).content.decode()
        assert f'data-recording="{mine.pk}"' in page and f'data-recording="{owners.pk}"' in page
        return {
            r.pk
            for r in (mine, owners)
            if f"/m/{family.memorial.pk}/recordings/{r.pk}/delete/" in page
        }

    assert delete_links(family.owner) == {mine.pk, owners.pk}
    assert delete_links(family.contributor) == {mine.pk}  # their own only
    assert delete_links(family.viewer) == set()


def test_the_uploader_deletes_a_recording_and_the_videos_that_speak_it(family, client_as):
    recording = _recording(family, family.contributor)
    video = _video_speaking(family, recording)
    other = _recording(family, family.owner, "owner.wav")
    contributor = client_as(family.contributor)
    url = f"/m/{family.memorial.pk}/recordings/{recording.pk}/delete/"

    confirm = contributor.get(url)
    assert confirm.status_code == 200
    assert f'data-item="video:{video.pk}"' in confirm.content.decode()  # said before it goes
    assert VoiceRecording.objects.filter(pk=recording.pk).exists()

    response = contributor.post(url)
    assert response.status_code == 302 and response["Location"].endswith("/videos/")
    assert _gone(recording) and not Video.objects.filter(pk=video.pk).exists()
    assert AuditEntry.objects.filter(action="recording.deleted", target_id=str(recording.pk))

    # Someone else's recording: the contributor may not; the owner may.
    other_url = f"/m/{family.memorial.pk}/recordings/{other.pk}/delete/"
    assert contributor.post(other_url).status_code == 403
    assert client_as(family.viewer).post(other_url).status_code == 403
    assert client_as(family.owner).post(other_url).status_code == 302
    assert _gone(other)


def test_a_recording_in_use_by_an_unfinished_job_is_not_deleted(family, client_as):
    recording = _recording(family, family.owner)
    Job.objects.create(
        kind=Kind.SPEAK,
        memorial=family.memorial,
        state=State.RUNNING,
        parameters={"recording": str(recording.pk)},
        queue="gpu",
    )
    owner = client_as(family.owner)
    page = owner.post(f"/m/{family.memorial.pk}/recordings/{recording.pk}/delete/")
    assert page.status_code == 409 and "still being made" in page.content.decode()
    api = owner.delete(f"/api/recordings/{recording.pk}/")
    assert api.status_code == 409 and "still being made" in api.json()["detail"]
    assert VoiceRecording.objects.filter(pk=recording.pk).exists()


def test_the_api_lists_and_deletes_recordings(family, client_as):
    recording = _recording(family, family.contributor)
    listed = client_as(family.viewer).get(f"/api/memorials/{family.memorial.pk}/recordings/")
    assert listed.status_code == 200
    [item] = listed.json()["results"]
    assert item["id"] == str(recording.pk) and item["original_filename"] == "grandma.wav"

    url = f"/api/recordings/{recording.pk}/"
    assert client_as(family.outsider).delete(url).status_code == 404
    refused = client_as(family.viewer).delete(url)
    assert refused.status_code == 403 and "may not delete" in refused.json()["detail"]
    assert client_as(family.contributor).delete(url).status_code == 204
    assert _gone(recording)
    assert client_as(family.contributor).delete(url).status_code == 404


# --- the zip export


def test_the_export_holds_the_recordings(family, client_as):
    recording = _recording(family, family.contributor)
    response = client_as(family.owner).get(f"/m/{family.memorial.pk}/export/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    manifest = json.loads(archive.read("manifest.json"))
    [entry] = [f for f in manifest["files"] if f["kind"] == "recording"]
    assert entry["path"] == "recordings/grandma 01.wav"  # named as a person would look for it
    assert entry["id"] == str(recording.pk) and entry["original_filename"] == "grandma.wav"
    data = archive.read(entry["path"])
    with default_storage.open(recording.file.name, "rb") as handle:
        assert data == handle.read()
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()
