"""Every page, API endpoint and media URL against every kind of visitor, from one table.

Each row names a request and the visitors who may make it; everyone else must
be refused (a login redirect for anonymous pages, 401/403 for anonymous API
calls, 404 for people who may not see the memorial at all, 403 otherwise).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from memorial.consent.models import ConsentRecord, Scope
from memorial.memorials.ingest import ingest_photo
from memorial.moderation.models import TakedownRequest
from tests import images
from tests.videos import samples as video_samples

ROLES = ("anonymous", "outsider", "viewer", "contributor", "owner", "staff")
MEMBERS = frozenset({"viewer", "contributor", "owner"})
MEMBERS_AND_STAFF = MEMBERS | {"staff"}
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
WRITERS = frozenset({"owner", "contributor"})
OWNER = frozenset({"owner"})
STAFF = frozenset({"staff"})


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # formatted with m (memorial), p (photo), c (consent record), v (viewer's user id),
    # t (takedown request), j (job), x (trained model), vid (video), w (consent withdrawal),
    # r (a voice recording the contributor uploaded)
    allowed: frozenset[str]
    data: Any = None
    json: bool = False

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


TABLE: list[Row] = [
    # Pages
    Row("GET", "/", SIGNED_IN),
    Row("GET", "/m/new/", SIGNED_IN),
    Row("GET", "/m/{m}/", MEMBERS_AND_STAFF),
    Row("GET", "/m/{m}/edit/", OWNER),
    Row("GET", "/m/{m}/upload/", WRITERS),
    Row("GET", "/m/{m}/captions/", WRITERS),
    Row("GET", "/m/{m}/members/", MEMBERS_AND_STAFF),
    Row("GET", "/m/{m}/consent/", MEMBERS_AND_STAFF),
    Row("GET", "/m/{m}/consent/{c}/withdraw/", OWNER),
    Row("POST", "/m/{m}/consent/{c}/withdraw/", OWNER),
    Row("GET", "/m/{m}/consent/withdrawals/{w}/", OWNER),
    Row("POST", "/m/{m}/consent/withdrawals/{w}/", OWNER),
    Row("GET", "/m/{m}/photos/{p}/", MEMBERS_AND_STAFF),
    # Gentle viewing: each member's own choice; the owner's AI feature switches
    Row("GET", "/m/{m}/viewing/", MEMBERS),
    Row("POST", "/m/{m}/viewing/", MEMBERS, {"choice": "all"}),
    Row("GET", "/m/{m}/ai-features/", OWNER),
    Row(
        "POST",
        "/m/{m}/ai-features/",
        OWNER,
        {
            "ai_generation_enabled": "on",
            "ai_restoration_enabled": "on",
            "ai_speaking_enabled": "on",
            "ai_films_enabled": "on",
        },
    ),
    Row("POST", "/m/{m}/photos/{p}/delete/", WRITERS),
    # Restoring a photo: a copy beside it, started by the family's writers (no consent needed)
    Row("GET", "/m/{m}/photos/{p}/restore/", WRITERS),
    Row(
        "POST",
        "/m/{m}/photos/{p}/restore/",
        WRITERS,
        {"repair": "on", "enlarge": "1", "fidelity": "30"},
    ),
    Row("GET", "/m/{m}/photos/restore/", WRITERS),
    Row("POST", "/m/{m}/photos/restore/", WRITERS, {"photo": "{p}"}),  # the gallery's selection
    Row("POST", "/api/photos/{p}/restore/", WRITERS, {"repair": True, "enlarge": 1}, json=True),
    # Retiring a memorial (archive, delete after cooling-off) and downloading everything
    Row("GET", "/m/{m}/retire/", OWNER),
    Row("POST", "/m/{m}/retire/", OWNER, {"action": "archive"}),
    Row("GET", "/m/{m}/export/", OWNER),
    Row("GET", "/admin/", frozenset({"staff"})),
    # Staff work (memorial.moderation, memorial.audit): 404 to everyone else
    Row("GET", "/moderation/consent/", STAFF),
    Row("POST", "/moderation/consent/{c}/review/", STAFF, {"decision": "approve", "reason": "ok"}),
    Row("GET", "/moderation/takedowns/", STAFF),
    Row("GET", "/moderation/takedowns/{t}/", STAFF),
    Row("GET", "/audit/", STAFF),
    Row("GET", "/audit/export.csv", STAFF),
    Row("GET", "/staff/queues/", STAFF),
    Row("POST", "/staff/queues/", STAFF, {"action": "resume", "queue": "gpu"}),
    Row("GET", "/metrics", STAFF),  # Prometheus; or a bearer token (tests/jobs/test_metrics.py)
    # Media
    Row("GET", "/media/photos/{p}/thumb/", MEMBERS_AND_STAFF),
    Row("GET", "/media/photos/{p}/display/", MEMBERS_AND_STAFF),
    Row("GET", "/media/photos/{p}/original/", MEMBERS_AND_STAFF),
    Row("GET", "/media/consent/{c}/evidence/", MEMBERS_AND_STAFF),
    # API
    Row("GET", "/api/memorials/", SIGNED_IN),
    Row("POST", "/api/memorials/", SIGNED_IN, {"name": "Aunt May"}, json=True),
    Row("GET", "/api/memorials/{m}/", MEMBERS_AND_STAFF),
    Row("PATCH", "/api/memorials/{m}/", OWNER, {"biography": "Loved the sea."}, json=True),
    Row("DELETE", "/api/memorials/{m}/", OWNER),
    Row("GET", "/api/memorials/{m}/viewing/", MEMBERS),
    Row("PUT", "/api/memorials/{m}/viewing/", MEMBERS, {"choice": "all"}, json=True),
    Row("GET", "/api/memorials/{m}/members/", MEMBERS_AND_STAFF),
    Row("PATCH", "/api/memorials/{m}/members/{v}/", OWNER, {"role": "contributor"}, json=True),
    Row("DELETE", "/api/memorials/{m}/members/{v}/", OWNER),
    Row("GET", "/api/memorials/{m}/invitations/", OWNER),
    Row("POST", "/api/memorials/{m}/invitations/", OWNER, {"role": "viewer"}, json=True),
    Row("GET", "/api/memorials/{m}/photos/", MEMBERS_AND_STAFF),
    Row("POST", "/api/memorials/{m}/photos/", WRITERS, "upload"),
    Row("GET", "/api/photos/{p}/", MEMBERS_AND_STAFF),
    Row("PATCH", "/api/photos/{p}/", WRITERS, {"caption": "At the lake"}, json=True),
    Row("DELETE", "/api/photos/{p}/", WRITERS),
    Row("GET", "/api/memorials/{m}/consent/", MEMBERS_AND_STAFF),
    Row(
        "POST",
        "/api/memorials/{m}/consent/",
        OWNER,
        {
            "attester_name": "June Whitfield",
            "relationship": "daughter",
            "basis": "next_of_kin",
            "scopes": [Scope.TRAINING, Scope.GENERATED_PHOTOS],
        },
        json=True,
    ),
    Row("POST", "/api/consent/{c}/withdraw/", OWNER),
    Row("POST", "/api/memorials/{m}/archive/", OWNER, {"archived": True}, json=True),
    Row("POST", "/api/memorials/{m}/restore/", OWNER),
    Row("GET", "/api/memorials/{m}/export/", OWNER),
    # Consent review for staff
    Row("GET", "/api/consent/pending/", STAFF),
    Row(
        "POST",
        "/api/consent/{c}/review/",
        STAFF,
        {"decision": "approve", "reason": "Evidence checked."},
        json=True,
    ),
    # Jobs and trained models (j: a failed training job with a sample grid, x: its model)
    Row("GET", "/m/{m}/jobs/", MEMBERS_AND_STAFF),
    Row("GET", "/m/{m}/train/", WRITERS),
    Row("GET", "/m/{m}/jobs/{j}/", MEMBERS_AND_STAFF),
    Row("POST", "/m/{m}/jobs/{j}/cancel/", WRITERS | STAFF),
    Row("POST", "/m/{m}/jobs/{j}/retry/", WRITERS),
    Row("GET", "/m/{m}/models/{x}/", MEMBERS_AND_STAFF),
    Row("POST", "/m/{m}/models/{x}/continue/", WRITERS, {"budget": 15}),
    Row("GET", "/media/jobs/{j}/sample/", MEMBERS_AND_STAFF),
    Row("GET", "/m/{m}/models/{x}/evaluation/samples.png", MEMBERS_AND_STAFF),
    Row("GET", "/api/memorials/{m}/jobs/", MEMBERS_AND_STAFF),
    Row("POST", "/api/memorials/{m}/jobs/", WRITERS, {"kind": "train"}, json=True),
    Row("GET", "/api/jobs/{j}/", MEMBERS_AND_STAFF),
    Row("POST", "/api/jobs/{j}/cancel/", WRITERS | STAFF),
    Row("POST", "/api/jobs/{j}/retry/", WRITERS),
    # Videos (vid: a finished video; p has a real face; consent covers videos and voice)
    Row("GET", "/m/{m}/photos/{p}/speak/", WRITERS),
    Row("GET", "/m/{m}/models/{x}/film/", WRITERS),
    Row("GET", "/m/{m}/videos/", MEMBERS_AND_STAFF),
    Row("GET", "/m/{m}/videos/{vid}/", MEMBERS_AND_STAFF),
    Row("GET", "/media/videos/{vid}/file/", MEMBERS_AND_STAFF),
    Row("GET", "/media/videos/{vid}/poster/", MEMBERS_AND_STAFF),
    Row("GET", "/api/memorials/{m}/videos/", MEMBERS_AND_STAFF),
    Row("GET", "/api/videos/{vid}/", MEMBERS_AND_STAFF),
    Row("POST", "/api/photos/{p}/speak/", WRITERS, "voice"),
    Row("POST", "/api/photos/{p}/live/", WRITERS, {"seed": 1}, json=True),
    Row("POST", "/api/models/{x}/film/", WRITERS, {"seeds": [1, 2], "seconds": 2}, json=True),
    Row("POST", "/api/models/{x}/continue/", WRITERS, {"time_budget_minutes": 15}, json=True),
    # Voice recordings: their uploader (the contributor here) or an owner deletes one
    Row("GET", "/m/{m}/recordings/{r}/delete/", WRITERS),
    Row("POST", "/m/{m}/recordings/{r}/delete/", WRITERS),
    Row("GET", "/api/memorials/{m}/recordings/", MEMBERS_AND_STAFF),
    Row("GET", "/api/recordings/{r}/", MEMBERS_AND_STAFF),
    Row("DELETE", "/api/recordings/{r}/", WRITERS),
]


@pytest.fixture
def scene(family):
    """The family, a photo the contributor uploaded, and a consent record with evidence."""
    photo = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("rose.jpg", video_samples.face_jpeg()),  # a real face
        user=family.contributor,
        attested=True,
        caption="Rose in the garden",
    )
    record = ConsentRecord(
        memorial=family.memorial,
        attested_by=family.owner,
        attester_name="Olive Owner",
        relationship="daughter",
        basis="next_of_kin",
        scopes=[Scope.TRAINING],
    )
    record.evidence.save("evidence", ContentFile(images.jpeg(seed=8)), save=False)
    record.save()
    takedown = TakedownRequest.objects.create(
        contact_name="Pat",
        contact_email="pat@example.net",
        relationship="neighbour",
        url=f"/m/{family.memorial.pk}/",
        reason="other",
        explanation="test",
        good_faith=True,
    )
    ids = {
        "m": family.memorial.pk,
        "p": photo.pk,
        "c": record.pk,
        "v": family.viewer.pk,
        "t": takedown.pk,
        "w": _withdrawal(family, record),
        **_jobs_scene(family),
        **video_samples.scene(family),
        "r": _recording(family),
    }
    return family, ids


def _recording(family):
    """A voice recording the contributor uploaded."""
    from memorial.videos.models import VoiceRecording

    recording = VoiceRecording(
        memorial=family.memorial,
        uploaded_by=family.contributor,
        duration=1.0,
        content_type="audio/wav",
    )
    recording.file.save("recording.wav", ContentFile(video_samples.voice_wav(1.0)), save=False)
    recording.save()
    return recording.pk


def _withdrawal(family, record):
    """A finished consent withdrawal of the memorial (its result page)."""
    from memorial.consent.models import Withdrawal

    return Withdrawal.objects.create(
        memorial=family.memorial, record=record, requested_by=family.owner
    ).pk


def _jobs_scene(family) -> dict:
    """Approved consent for training, a failed training job with a sample grid, and its model."""
    from memorial.consent.models import Status
    from memorial.jobs.models import Job, ModelVersion

    ConsentRecord.objects.create(
        memorial=family.memorial,
        attester_name="Olive Owner",
        relationship="daughter",
        basis="next_of_kin",
        scopes=[Scope.TRAINING],
        status=Status.APPROVED,
    )
    job = Job.objects.create(
        kind="train",
        memorial=family.memorial,
        state="failed",
        total=10,
        parameters={"dataset": "datasets/prepared"},  # what "Continue training" starts from
    )
    job.sample.save("sample.png", ContentFile(images.png(seed=3)), save=True)
    model = ModelVersion.objects.create(
        memorial=family.memorial, job=job, checkpoint="none", resolution=64
    )
    from django.core.files.storage import default_storage

    picture = default_storage.save(
        f"memorials/{family.memorial.pk}/models/{job.pk}/evaluation/e/samples.png",
        ContentFile(images.png(seed=4)),
    )
    Job.objects.create(  # the model's evaluation report, with one picture
        kind="evaluate",
        memorial=family.memorial,
        state="succeeded",
        parameters={"model_version": str(model.pk)},
        result={"report": {}, "files": {"samples": picture}},
    )
    return {"j": job.pk, "x": model.pk}


def _request(client, row: Row, path: str):
    method = getattr(client, row.method.lower())
    if row.data == "voice":
        voice = SimpleUploadedFile("voice.wav", video_samples.voice_wav(1.0), "audio/wav")
        return method(path, {"audio": voice})
    if row.data == "upload":
        upload = SimpleUploadedFile("new.jpg", images.jpeg(seed=99), content_type="image/jpeg")
        return method(path, {"file": upload, "attested": "true"})
    if row.json:
        return method(path, json.dumps(row.data), content_type="application/json")
    if row.data:
        return method(path, row.data)
    return method(path)


def _is_login_redirect(response) -> bool:
    return response.status_code in (301, 302) and "login" in response.get("Location", "")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", TABLE, ids=str)
def test_permission_matrix(row: Row, role: str, scene, client_as):
    family, ids = scene
    client = client_as(family.user(role))
    client.raise_request_exception = True
    path = row.path.format(**ids)
    response = _request(client, row, path)
    status = response.status_code
    if role in row.allowed:
        assert status < 400 and not _is_login_redirect(response), (
            f"{role} should be allowed {row}, got {status}"
        )
    elif role == "anonymous":
        if row.is_api:
            assert status in (401, 403), f"anonymous {row}: {status}"
        else:
            assert _is_login_redirect(response) or status == 404, f"anonymous {row}: {status}"
    elif role == "outsider" or (
        role == "staff" and "staff" not in row.allowed and row.path == "/admin/"
    ):
        assert status == 404 or _is_login_redirect(response), f"{role} {row}: {status}"
    else:
        assert status in (403, 404) or _is_login_redirect(response), f"{role} {row}: {status}"
        if role in MEMBERS and ("{m}" in row.path or "{p}" in row.path):
            # Members know the memorial exists: they are told "not allowed", not "not found".
            assert status == 403, f"{role} {row}: expected 403, got {status}"


def test_every_route_is_in_the_table():
    """A new page or endpoint must be added to the matrix, or this fails."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)

    # Not about one memorial: sign-in, language, admin, health and the API's own documents.
    ignored_prefixes = (
        "admin/",
        "i18n/",
        "jsi18n/",
        "accounts/",
        "healthz",
        "api/schema/",
        "api/docs/",
        "api/auth/",
        # Public by design, no account: takedown requests, their acknowledgement and appeals.
        "takedown/",
        # Public by design, no account: "Verify a file" (tests/provenance/test_site.py).
        "verify/",
        # Public by design, no account: "About AI-made items", linked from every AI label.
        "about-ai/",
    )
    covered = {row.path for row in TABLE}

    def normalise(route: str) -> str:
        route = route.lstrip("^").rstrip("$")
        route = re.sub(r"<uuid:memorial_id>", "{m}", route)
        route = re.sub(r"<uuid:photo_id>", "{p}", route)
        route = re.sub(r"<uuid:record_id>", "{c}", route)
        route = re.sub(r"<int:user_id>", "{v}", route)
        route = re.sub(r"<uuid:job_id>", "{j}", route)
        route = re.sub(r"<uuid:model_id>", "{x}", route)
        route = re.sub(r"<uuid:takedown_id>", "{t}", route)
        route = re.sub(r"<uuid:video_id>", "{vid}", route)
        route = re.sub(r"<uuid:withdrawal_id>", "{w}", route)
        route = re.sub(r"<uuid:recording_id>", "{r}", route)
        return "/" + route

    missing = []
    for route in walk(get_resolver().url_patterns):
        if route.startswith(ignored_prefixes) or route in ("api/.*", "api/^.*$") or ".*" in route:
            continue
        path = normalise(route)
        if "<str:variant>" in path:
            path = path.replace("<str:variant>", "thumb")
        path = path.replace("<slug:role>", "samples")  # a model's evaluation pictures
        if path not in covered:
            missing.append(path)
    assert missing == []


# --- Gentle viewing: a member who chose to see fewer AI-made items never receives them.

#: AI-made things, by what a member must have chosen to see them (g: a generated photo).
AI_PHOTO_PATHS = (
    "/media/photos/{g}/thumb/",
    "/media/photos/{g}/display/",
    "/media/photos/{g}/original/",
    "/m/{m}/photos/{g}/",
    "/api/photos/{g}/",
    "/media/jobs/{j}/sample/",
    "/m/{m}/models/{x}/evaluation/samples.png",
)
AI_VIDEO_PATHS = (
    "/media/videos/{vid}/file/",
    "/media/videos/{vid}/poster/",
    "/m/{m}/videos/{vid}/",
    "/api/videos/{vid}/",
)
CHOICES = {"unchosen": None, "real": (False, False), "photos": (True, False), "all": (True, True)}


def _choose(family, role: str, choice: str) -> None:
    from django.utils import timezone

    membership = family.memorial.memberships.get(user=family.user(role))
    flags = CHOICES[choice]
    membership.viewing_chosen_at = None if flags is None else timezone.now()
    membership.show_ai_photos, membership.show_ai_videos = flags or (False, False)
    membership.save()


@pytest.fixture
def gentle_scene(scene):
    """The matrix scene plus one AI-made photo (g)."""
    from memorial.memorials.models import PhotoKind

    family, ids = scene
    generated = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("made.png", images.png(seed=41)),
        user=family.contributor,
        attested=True,
        caption="Rose by the sea",
        kind=PhotoKind.GENERATED,
    )
    return family, {**ids, "g": generated.pk}


@pytest.mark.django_db
@pytest.mark.parametrize("choice", CHOICES)
@pytest.mark.parametrize("role", sorted(MEMBERS))
def test_ai_items_follow_the_members_choice(role: str, choice: str, gentle_scene, client_as):
    """Every URL of an AI-made photo or video answers a member who did not choose to see it
    with 403, and one who did with the item; a real photo is always there."""
    family, ids = gentle_scene
    _choose(family, role, choice)
    client = client_as(family.user(role))
    client.raise_request_exception = True
    photos, videos = CHOICES[choice] or (False, False)
    for paths, allowed in ((AI_PHOTO_PATHS, photos), (AI_VIDEO_PATHS, videos)):
        for path in paths:
            status = client.get(path.format(**ids)).status_code
            if allowed:
                assert status == 200, f"{role} ({choice}) {path}: {status}"
            else:
                assert status == 403, f"{role} ({choice}) {path}: expected 403, got {status}"
    assert client.get("/media/photos/{p}/thumb/".format(**ids)).status_code == 200


@pytest.mark.django_db
def test_staff_review_ai_items_without_a_choice(gentle_scene, client_as):
    """Staff are not members and make no choice: they see AI-made items to review them."""
    family, ids = gentle_scene
    client = client_as(family.staff)
    for path in AI_PHOTO_PATHS + AI_VIDEO_PATHS:
        status = client.get(path.format(**ids)).status_code
        assert status == 200, f"staff {path}: {status}"
