"""Staff review consent: approve or reject with a reason, owners are told, the gate follows."""

from __future__ import annotations

import pytest

from memorial.audit.actions import AuditAction
from memorial.audit.models import AuditEntry
from memorial.consent.gate import may_use
from memorial.consent.models import Scope, Status

pytestmark = pytest.mark.django_db


def test_queue_shows_pending_records_with_evidence_link(family, client_as, pending_consent):
    page = client_as(family.staff).get("/moderation/consent/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-record="{pending_consent.pk}"' in html
    assert "Grandma Rose" in html


@pytest.mark.parametrize("role", ["owner", "contributor", "viewer", "outsider"])
def test_only_staff_reach_the_queue(family, client_as, pending_consent, role):
    client = client_as(family.user(role))
    assert client.get("/moderation/consent/").status_code == 404
    review = client.post(
        f"/moderation/consent/{pending_consent.pk}/review/",
        {"decision": "approve", "reason": "looks fine"},
    )
    assert review.status_code == 404
    pending_consent.refresh_from_db()
    assert pending_consent.status == Status.PENDING


def test_anonymous_visitors_are_sent_to_sign_in(client_as):
    response = client_as(None).get("/moderation/consent/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_approval_sets_reviewer_tells_owner_and_opens_the_gate(
    family, client_as, pending_consent, mailoutbox, django_capture_on_commit_callbacks
):
    assert not may_use(family.memorial, Scope.TRAINING)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(family.staff).post(
            f"/moderation/consent/{pending_consent.pk}/review/",
            {"decision": "approve", "reason": "The letter from the executor is clear."},
        )
    assert response.status_code == 302
    pending_consent.refresh_from_db()
    assert pending_consent.status == Status.APPROVED
    assert pending_consent.reviewed_by == family.staff
    assert pending_consent.status_changed_at is not None
    assert pending_consent.review_reason == "The letter from the executor is clear."
    assert may_use(family.memorial, Scope.TRAINING)
    assert not may_use(family.memorial, Scope.VOICE)  # scopes stay separate
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["owner@example.org"]
    assert "approved" in mail.subject and "executor is clear" in mail.body
    assert f"/m/{family.memorial.pk}/consent/" in mail.body
    entry = AuditEntry.objects.get(action=AuditAction.CONSENT_APPROVED)
    assert entry.actor_id == family.staff.pk and entry.target_id == str(pending_consent.pk)
    # The owner sees the decision and its reason in the app, on the consent page.
    page = client_as(family.owner).get(f"/m/{family.memorial.pk}/consent/").content.decode()
    assert "executor is clear" in page and 'data-status="approved"' in page


def test_rejection_needs_a_reason_and_is_told(
    family, client_as, pending_consent, mailoutbox, django_capture_on_commit_callbacks
):
    staff = client_as(family.staff)
    url = f"/moderation/consent/{pending_consent.pk}/review/"
    empty = staff.post(url, {"decision": "reject", "reason": "   "})
    assert empty.status_code == 400
    assert "Please write the reasons" in empty.content.decode()
    pending_consent.refresh_from_db()
    assert pending_consent.status == Status.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(url, {"decision": "reject", "reason": "The evidence is missing."})
    pending_consent.refresh_from_db()
    assert pending_consent.status == Status.REJECTED
    assert "not approved" in mailoutbox[0].subject
    reason = str(may_use(family.memorial, Scope.TRAINING).reason)
    assert "not approved" in reason
    # A second decision on the same record is refused, and nothing changes.
    again = staff.post(url, {"decision": "approve", "reason": "changed my mind"}, follow=True)
    assert "already been reviewed" in again.content.decode()
    pending_consent.refresh_from_db()
    assert pending_consent.status == Status.REJECTED
