"""Nobody reviews a consent record they are part of: its attester and the memorial's members are
refused on the review page, over the API and in the admin (one rule, `policy.check_consent_review`).
When nobody else could review it (a single administrator), they may decide with a written reason
of at least `SOLE_REVIEWER_REASON_MIN` characters, kept in the audit chain."""

from __future__ import annotations

import json

import pytest

from memorial.audit import chain
from memorial.audit.actions import AuditAction
from memorial.audit.models import AuditEntry
from memorial.consent.models import Status
from memorial.policy import SOLE_REVIEWER_REASON_MIN, ReviewRefusal, check_consent_review

pytestmark = pytest.mark.django_db

CONFIRMATION = "I am the only administrator of this instance; nobody else can review it."
assert len(CONFIRMATION) >= SOLE_REVIEWER_REASON_MIN


def make_staff(*users) -> None:
    for user in users:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


def page_review(client, record, **fields):
    body = {"decision": "approve", "reason": "The letter is clear.", **fields}
    return client.post(f"/moderation/consent/{record.pk}/review/", body)


def api_review(client, record, **fields):
    body = {"decision": "approve", "reason": "The letter is clear.", **fields}
    return client.post(
        f"/api/consent/{record.pk}/review/", json.dumps(body), content_type="application/json"
    )


def assert_untouched(record) -> None:
    record.refresh_from_db()
    assert record.status == Status.PENDING and record.reviewed_by is None
    assert not AuditEntry.objects.filter(target_id=str(record.pk)).exclude(
        action=AuditAction.CONSENT_RECORDED
    )


# --- The rule


def test_policy_refuses_the_attester_and_every_member_but_not_other_staff(family, pending_consent):
    make_staff(family.owner, family.contributor, family.viewer)  # owner attested the record
    assert check_consent_review(family.staff, pending_consent).allowed
    owner = check_consent_review(family.owner, pending_consent)
    assert owner.refusal == ReviewRefusal.ATTESTER and "recorded this consent" in owner.reason
    for member in (family.contributor, family.viewer):
        check = check_consent_review(member, pending_consent)
        assert check.refusal == ReviewRefusal.MEMBER and "member of this memorial" in check.reason
        assert not check.sole_reviewer  # Stella Staff, outside the family, can review it
    refused = check_consent_review(family.outsider, pending_consent)  # not staff at all
    assert refused.refusal == ReviewRefusal.NOT_STAFF and not refused.needs_confirmation


def test_a_member_is_the_sole_reviewer_only_when_no_other_active_staff_is_outside_the_family(
    family, pending_consent
):
    make_staff(family.contributor, family.viewer)
    assert not check_consent_review(family.contributor, pending_consent).sole_reviewer
    family.staff.is_active = False  # a deactivated account reviews nothing
    family.staff.save(update_fields=["is_active"])
    # The viewer is staff too, but a member: no help either.
    check = check_consent_review(family.contributor, pending_consent)
    assert check.sole_reviewer and check.needs_confirmation and not check.allowed


# --- The review page


@pytest.mark.parametrize("who", ["owner", "contributor"])
def test_page_says_why_and_refuses_a_reviewer_who_is_part_of_the_record(
    family, client_as, pending_consent, who
):
    person = family.user(who)
    make_staff(person)
    client = client_as(person)
    html = client.get("/moderation/consent/").content.decode()
    assert f'data-record="{pending_consent.pk}"' in html  # still listed, with the reason
    expected = "recorded this consent yourself" if who == "owner" else "member of this memorial"
    assert expected in html and "Another staff member" in html
    assert f"/moderation/consent/{pending_consent.pk}/review/" not in html  # no form to use
    refused = page_review(client, pending_consent)
    assert refused.status_code == 403
    assert expected in refused.content.decode()
    assert_untouched(pending_consent)
    # Staff outside the family still can.
    assert page_review(client_as(family.staff), pending_consent).status_code == 302
    pending_consent.refresh_from_db()
    assert pending_consent.status == Status.APPROVED


def test_page_lets_a_sole_reviewer_decide_with_a_written_reason_in_the_audit_chain(
    family, client_as, pending_consent, django_capture_on_commit_callbacks
):
    make_staff(family.owner)
    family.staff.is_staff = False  # the owner is now the instance's only staff user
    family.staff.save(update_fields=["is_staff"])
    client = client_as(family.owner)
    html = client.get("/moderation/consent/").content.decode()
    assert "Nobody else can review this record" in html
    assert 'name="sole_reviewer_reason"' in html

    missing = page_review(client, pending_consent)
    assert missing.status_code == 400 and "at least" in missing.content.decode()
    short = page_review(client, pending_consent, sole_reviewer_reason="I am the admin.")
    assert short.status_code == 400
    assert_untouched(pending_consent)

    with django_capture_on_commit_callbacks(execute=True):
        done = page_review(client, pending_consent, sole_reviewer_reason=CONFIRMATION)
    assert done.status_code == 302
    pending_consent.refresh_from_db()
    assert pending_consent.status == Status.APPROVED
    assert pending_consent.reviewed_by == family.owner
    confirmed = AuditEntry.objects.get(action=AuditAction.CONSENT_SOLE_REVIEWER)
    assert confirmed.reason == CONFIRMATION and confirmed.actor_id == family.owner.pk
    assert confirmed.target_id == str(pending_consent.pk)
    assert confirmed.extra["conflict"] == "attester"
    approved = AuditEntry.objects.get(action=AuditAction.CONSENT_APPROVED)
    assert approved.extra["sole_reviewer"] is True
    assert chain.verify(AuditEntry.objects.order_by("id")) == (AuditEntry.objects.count(), None)


# --- The API


def test_api_refuses_a_member_and_says_why_in_the_pending_list(family, client_as, pending_consent):
    make_staff(family.contributor)
    client = client_as(family.contributor)
    [listed] = client.get("/api/consent/pending/").json()
    assert listed["review_refusal"] == "member" and listed["sole_reviewer"] is False
    refused = api_review(client, pending_consent, sole_reviewer_reason=CONFIRMATION)
    assert refused.status_code == 403
    assert "member of this memorial" in refused.json()["detail"]
    assert_untouched(pending_consent)
    [free] = client_as(family.staff).get("/api/consent/pending/").json()
    assert free["review_refusal"] is None and free["sole_reviewer"] is False


def test_api_sole_reviewer_needs_the_written_reason(family, client_as, pending_consent):
    make_staff(family.owner)
    family.staff.delete()
    client = client_as(family.owner)
    [listed] = client.get("/api/consent/pending/").json()
    assert listed["review_refusal"] == "attester" and listed["sole_reviewer"] is True
    short = api_review(client, pending_consent, sole_reviewer_reason="because")
    assert short.status_code == 400 and "at least" in short.json()["detail"]
    assert_untouched(pending_consent)
    done = api_review(client, pending_consent, decision="reject", sole_reviewer_reason=CONFIRMATION)
    assert done.status_code == 200, done.content
    assert done.json()["status"] == Status.REJECTED
    assert AuditEntry.objects.filter(
        action=AuditAction.CONSENT_SOLE_REVIEWER, reason=CONFIRMATION, extra__decision="reject"
    ).exists()


# --- The admin


def test_admin_cannot_change_a_decision_and_a_member_cannot_change_the_record(
    family, make_user, client_as, pending_consent
):
    url = f"/admin/consent/consentrecord/{pending_consent.pk}/change/"
    form = {
        "attester_name": "Olive Owner",
        "relationship": "daughter",
        "basis": "next_of_kin",
        "scopes": '["training"]',
        "statement": "",
        "status": "approved",
        "review_reason": "fine by me",
    }
    root = make_user("root@example.org", is_staff=True, is_superuser=True)
    saved = client_as(root).post(url, form)
    assert saved.status_code == 302  # the other fields saved; the decision is not a field here
    pending_consent.refresh_from_db()
    assert pending_consent.status == Status.PENDING and pending_consent.review_reason == ""

    family.owner.is_staff = family.owner.is_superuser = True
    family.owner.save(update_fields=["is_staff", "is_superuser"])
    owner = client_as(family.owner)
    page = owner.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert owner.post(url, form).status_code == 403
    pending_consent.refresh_from_db()
    assert pending_consent.status == Status.PENDING
