"""Takedown requests from the public form to a decision, an appeal link and its expiry."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from memorial.audit.actions import AuditAction
from memorial.audit.models import AuditEntry
from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import Photo
from memorial.moderation import services
from memorial.moderation.models import TakedownRequest, TakedownStatus
from tests import images

pytestmark = pytest.mark.django_db
REFERENCE = re.compile(r"TD-\d{4}-[2-9A-HJ-NP-Z]{6}")


def _form(url: str, reason: str = "depicted", **extra) -> dict:
    return {
        "contact_name": "Pat Passerby",
        "contact_email": "pat@example.net",
        "relationship": "the person in the photo",
        "url": url,
        "reason": reason,
        "explanation": "This is me at a private party; I never agreed to be here.",
        "good_faith": "on",
        "website": "",
        **extra,
    }


@pytest.fixture
def photo(family) -> Photo:
    return ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("party.jpg", images.jpeg(seed=21)),
        user=family.contributor,
        attested=True,
        caption="At the party",
    )


def _photo_url(photo: Photo) -> str:
    return f"https://memorial.example.org/m/{photo.memorial_id}/photos/{photo.pk}/"


def test_request_gets_a_reference_and_an_acknowledgement(
    client_as, photo, mailoutbox, django_capture_on_commit_callbacks
):
    client = client_as(None)
    assert client.get("/takedown/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/takedown/", _form(_photo_url(photo)), follow=True)
    assert response.status_code == 200
    takedown = TakedownRequest.objects.get()
    assert REFERENCE.fullmatch(takedown.reference)
    assert takedown.reference in response.content.decode()
    assert takedown.photo_id == photo.pk and takedown.memorial_id == photo.memorial_id
    assert takedown.status == TakedownStatus.RECEIVED
    assert mailoutbox[0].to == ["pat@example.net"]
    assert takedown.reference in mailoutbox[0].subject
    assert AuditEntry.objects.filter(action=AuditAction.TAKEDOWN_RECEIVED).count() == 1


def test_missing_good_faith_statement_is_refused(client_as, photo):
    data = _form(_photo_url(photo))
    del data["good_faith"]
    response = client_as(None).post("/takedown/", data)
    assert response.status_code == 400
    assert "Please confirm the statement of good faith." in response.content.decode()
    assert not TakedownRequest.objects.exists()


def test_honeypot_makes_no_record(client_as, photo, mailoutbox):
    response = client_as(None).post(
        "/takedown/", _form(_photo_url(photo), website="http://spam.example"), follow=True
    )
    assert response.status_code == 200
    assert not TakedownRequest.objects.exists() and mailoutbox == []
    assert not REFERENCE.search(response.content.decode())


def test_rate_limit_answers_429_with_a_message(client_as, photo, settings):
    settings.MEMORIAL_TAKEDOWN_RATE = "2/h"
    client = client_as(None)
    for _ in range(2):
        assert client.post("/takedown/", _form(_photo_url(photo))).status_code == 302
    refused = client.post("/takedown/", _form(_photo_url(photo)))
    assert refused.status_code == 429
    assert "Too many requests" in refused.content.decode()
    assert TakedownRequest.objects.count() == 2


def test_deadlines_depend_on_the_reason_and_overdue_ones_stand_out(client_as, family, settings):
    settings.MEMORIAL_TAKEDOWN_URGENT_HOURS = 24
    client = client_as(None)
    client.post("/takedown/", _form("/m/whatever/", reason="intimate"))
    client.post("/takedown/", _form("/m/whatever/", reason="copyright"))
    urgent = TakedownRequest.objects.get(reason="intimate")
    standard = TakedownRequest.objects.get(reason="copyright")
    assert abs(urgent.deadline - urgent.created_at - timedelta(hours=24)) < timedelta(minutes=1)
    assert abs(standard.deadline - standard.created_at - timedelta(days=7)) < timedelta(minutes=1)
    TakedownRequest.objects.filter(pk=urgent.pk).update(
        deadline=timezone.now() - timedelta(hours=1)
    )
    assert list(TakedownRequest.objects.overdue()) == [urgent]
    page = client_as(family.staff).get("/moderation/takedowns/").content.decode()
    assert f'data-reference="{urgent.reference}" data-overdue="1"' in page
    assert f'data-reference="{standard.reference}" data-overdue="0"' in page
    assert page.index(urgent.reference) < page.index(standard.reference)
    assert client_as(family.owner).get("/moderation/takedowns/").status_code == 404


def _stored_files(memorial_id) -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "memorials" / str(memorial_id) / "photos"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_action_hides_then_deletes_the_files_and_keeps_the_audit(
    client_as, family, photo, mailoutbox, django_capture_on_commit_callbacks
):
    other = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("garden.jpg", images.jpeg(seed=22)),
        user=family.owner,
        attested=True,
    )
    client_as(None).post("/takedown/", _form(_photo_url(photo)))
    takedown = TakedownRequest.objects.get()
    assert any(str(photo.pk) in str(p) for p in _stored_files(family.memorial.pk))
    staff = client_as(family.staff)
    detail = staff.get(f"/moderation/takedowns/{takedown.pk}/").content.decode()
    assert f'value="photo:{photo.pk}"' in detail  # the impact preview
    assert f'value="photo:{other.pk}"' not in detail
    staff.post(f"/moderation/takedowns/{takedown.pk}/", {"op": "review"})
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            f"/moderation/takedowns/{takedown.pk}/",
            {"op": "action", "item": [f"photo:{photo.pk}"], "reason": "The person objects."},
        )
    assert response.status_code == 302
    takedown.refresh_from_db()
    assert takedown.status == TakedownStatus.ACTIONED
    assert not Photo.objects.filter(pk=photo.pk).exists()
    stored = _stored_files(family.memorial.pk)
    assert stored and not any(str(photo.pk) in str(p) for p in stored)
    assert all(str(other.pk) in str(p) for p in stored)
    actions = list(
        AuditEntry.objects.filter(memorial_id=family.memorial.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    for expected in ("takedown.under_review", "photo.hidden", "takedown.actioned", "photo.deleted"):
        assert expected in actions
    assert actions.index("photo.hidden") < actions.index("photo.deleted")
    decision = mailoutbox[-1]
    assert decision.to == ["pat@example.net"] and "The person objects." in decision.body
    assert "/takedown/appeal/" in decision.body
    gallery = client_as(family.owner).get(f"/m/{family.memorial.pk}/").content.decode()
    assert str(photo.pk) not in gallery


def test_hidden_items_are_deleted_again_when_the_first_deletion_failed(client_as, family, photo):
    client_as(None).post("/takedown/", _form(_photo_url(photo)))
    takedown = TakedownRequest.objects.get()
    chosen = services.item_registry.HANDLERS["photo"].find([str(photo.pk)])
    with mock.patch("memorial.moderation.items.PhotoHandler.delete", side_effect=OSError("disk")):
        services.action_takedown(takedown.pk, family.staff, chosen, "objection")
    photo.refresh_from_db()
    assert photo.hidden  # hidden was committed before the deletion step
    takedown.refresh_from_db()
    assert takedown.status == TakedownStatus.ACTIONED
    assert [(i.kind, i.id) for i in services.remaining(takedown)] == [("photo", str(photo.pk))]
    staff = client_as(family.staff)
    page = staff.get(f"/moderation/takedowns/{takedown.pk}/").content.decode()
    assert "1 removed item is still stored." in page
    staff.post(f"/moderation/takedowns/{takedown.pk}/", {"op": "purge"})
    assert not Photo.objects.filter(pk=photo.pk).exists()
    assert not services.remaining(takedown)


def _appeal_link(mail) -> str:
    return re.search(r"https?://\S+(/takedown/appeal/\S+/)", mail.body).group(1)


def test_appeal_link_works_once_and_expires(
    client_as, family, photo, mailoutbox, django_capture_on_commit_callbacks
):
    client_as(None).post("/takedown/", _form(_photo_url(photo), reason="harmful"))
    takedown = TakedownRequest.objects.get()
    services.reject_takedown(takedown.pk, family.staff, "It is an ordinary family photo.")
    link = _appeal_link(mailoutbox[-1])
    visitor = client_as(None)
    assert visitor.get(link).status_code == 200
    empty = visitor.post(link, {"text": ""})
    assert empty.status_code == 400
    response = visitor.post(link, {"text": "It shows me, and I object."}, follow=True)
    assert "Your appeal has been received" in response.content.decode()
    takedown.refresh_from_db()
    assert takedown.status == TakedownStatus.APPEALED and takedown.appeal_text
    assert AuditEntry.objects.filter(action=AuditAction.TAKEDOWN_APPEALED).exists()
    # A tampered link is refused.
    assert visitor.get(link[:-3] + "xx/").status_code == 404

    # A new decision needs a new link; one signed 184 days ago has expired, 180 days has not.
    takedown = services.close_takedown(takedown.pk, family.staff, "Reviewed again.")
    TakedownRequest.objects.filter(pk=takedown.pk).update(status=TakedownStatus.REJECTED)
    takedown.refresh_from_db()
    now = timezone.now().timestamp()
    with mock.patch("django.core.signing.time.time", return_value=now - 184 * 86400):
        old = services.appeal_token(takedown)
    with mock.patch("django.core.signing.time.time", return_value=now - 180 * 86400):
        recent = services.appeal_token(takedown)
    assert visitor.get(f"/takedown/appeal/{old}/").status_code == 410
    assert visitor.get(f"/takedown/appeal/{recent}/").status_code == 200


def test_a_takedown_waiting_for_a_running_job_finishes_when_the_job_ends(client_as, family, photo):
    """The job's row cannot go while its worker writes to it: the takedown keeps it as remaining,
    and the job's end (runner.finish) runs the takedown's deletion again."""
    from memorial.jobs import lease, runner, texts
    from memorial.jobs.models import Job, Kind, State
    from memorial.jobs.retirement import RETIRED

    job = Job.objects.create(
        kind=Kind.GENERATE,
        memorial=family.memorial,
        requested_by=family.contributor,
        state=State.RUNNING,
        queue="gpu",
    )
    worker = lease.acquire(job.pk)  # a worker runs it
    client_as(None).post("/takedown/", _form(_photo_url(photo)))
    takedown = TakedownRequest.objects.get()
    chosen = services.item_registry.HANDLERS["job"].find([str(job.pk)])
    try:
        services.action_takedown(takedown.pk, family.staff, chosen, "objection")
        takedown.refresh_from_db()
        assert [(i.kind, i.id) for i in services.remaining(takedown)] == [("job", str(job.pk))]
        assert Job.objects.get(pk=job.pk).parameters.get("retired") is True
    finally:
        worker.release()
    runner.finish(job, State.BLOCKED, error=texts.t(RETIRED), message=texts.t(RETIRED))
    assert not Job.objects.filter(pk=job.pk).exists()
    assert not services.remaining(takedown)
