"""Takedowns reach the people concerned: staff are e-mailed about each new request and see how
many wait; owners learn what of their memorial was removed and why; a request made while Redis
or the mail server is away is stored and acknowledged, and the e-mails go out later."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from memorial.core.redis_server import PrivateRedis
from memorial.memorials.ingest import ingest_photo
from memorial.moderation import notices, services
from memorial.moderation.models import TakedownRequest
from tests import images
from tests.servers import free_port
from tests.trust.test_takedown import _form, _photo_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(family):
    return ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("party.jpg", images.jpeg(seed=31)),
        user=family.contributor,
        attested=True,
        caption="At the party",
    )


def _submit(client, photo, capture) -> TakedownRequest:
    with capture(execute=True):
        response = client.post("/takedown/", _form(_photo_url(photo)), follow=True)
    assert response.status_code == 200
    takedown = TakedownRequest.objects.get()
    assert takedown.reference in response.content.decode()
    return takedown


def test_staff_are_emailed_about_each_new_request_and_their_pages_show_how_many_wait(
    client_as, family, photo, mailoutbox, django_capture_on_commit_callbacks
):
    takedown = _submit(client_as(None), photo, django_capture_on_commit_callbacks)
    assert [m.to for m in mailoutbox] == [["pat@example.net"], ["staff@example.org"]]
    notice = mailoutbox[1]
    assert takedown.reference in notice.subject
    assert f"/moderation/takedowns/{takedown.pk}/" in notice.body
    assert "1 request is waiting for a decision." in notice.body
    takedown.refresh_from_db()
    assert takedown.acknowledged_at and takedown.staff_notified_at

    staff = client_as(family.staff)
    for page in ("/moderation/consent/", "/moderation/takedowns/", "/audit/"):
        assert "Takedown requests (1)" in staff.get(page).content.decode(), page
    services.reject_takedown(takedown.pk, family.staff, "An ordinary family photo.")
    page = staff.get("/moderation/takedowns/").content.decode()
    assert "Takedown requests (" not in page  # nothing waits any more


def test_owners_are_told_what_was_removed_and_why_in_plain_words(
    client_as, family, photo, mailoutbox
):
    takedown = services.submit_takedown(TakedownRequest(**_fields(_photo_url(photo))))
    chosen = services.item_registry.HANDLERS["photo"].find([str(photo.pk)])
    mailoutbox.clear()
    services.action_takedown(takedown.pk, family.staff, chosen, "The person in it objects.")
    to_owner = [m for m in mailoutbox if m.to == ["owner@example.org"]]
    assert len(to_owner) == 1, [m.to for m in mailoutbox]
    mail = to_owner[0]
    assert "Grandma Rose" in mail.subject
    assert "- 1 photo (At the party)" in mail.body and "party.jpg" not in mail.body
    assert "The person in it objects." in mail.body
    for identifier in (photo.pk, family.memorial.pk, takedown.pk, takedown.reference):
        assert str(identifier) not in mail.subject + mail.body
    # Nobody else of the family is written to; the requester still gets the decision last.
    assert not [m for m in mailoutbox if set(m.to) & {"contributor@example.org"}]
    assert mailoutbox[-1].to == ["pat@example.net"]


def _fields(url: str) -> dict:
    data = _form(url)
    data.pop("website")
    data["good_faith"] = True
    return data


def test_a_request_made_while_redis_is_away_is_stored_and_acknowledged(
    client_as, photo, mailoutbox, settings, tmp_path, django_capture_on_commit_callbacks
):
    away = PrivateRedis(tmp_path / "redis")
    away.start()
    away.stop()  # the rate limit's Redis is gone: its socket no longer exists
    caches = dict(settings.CACHES)
    caches["ratelimit"] = {**caches["ratelimit"], "LOCATION": away.url}
    settings.CACHES = caches

    takedown = _submit(client_as(None), photo, django_capture_on_commit_callbacks)
    assert takedown.photo_id == photo.pk
    assert mailoutbox[0].to == ["pat@example.net"] and takedown.reference in mailoutbox[0].subject


def test_e_mails_a_mail_server_refused_are_sent_later_by_the_sweep(
    client_as, photo, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    settings.EMAIL_TIMEOUT = 5
    takedown = _submit(client_as(None), photo, django_capture_on_commit_callbacks)
    assert takedown.acknowledged_at is None and takedown.staff_notified_at is None

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # back again
    assert notices.send_due_notices() == 0  # too recent: its own attempt may still be running
    assert notices.send_due_notices(older_than=timedelta(0)) == 1
    assert [m.to for m in mailoutbox] == [["pat@example.net"], ["staff@example.org"]]
    takedown.refresh_from_db()
    assert takedown.acknowledged_at and takedown.staff_notified_at
    assert notices.send_due_notices(older_than=timedelta(0)) == 0  # each goes once
    assert len(mailoutbox) == 2
