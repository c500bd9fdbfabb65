"""The consent review queue over the API: staff list pending records and decide with a reason,
through the same step as the staff page (audit entry, e-mail to the owners, the gate follows)."""

from __future__ import annotations

import json

import pytest

from memorial.accounts import tokens
from memorial.audit.actions import AuditAction
from memorial.audit.models import AuditEntry
from memorial.consent.gate import may_use
from memorial.consent.models import Scope, Status

pytestmark = pytest.mark.django_db


def review(client, record_id, body):
    return client.post(
        f"/api/consent/{record_id}/review/", json.dumps(body), content_type="application/json"
    )


def test_staff_list_pending_records_oldest_first(family, client_as, pending_consent):
    response = client_as(family.staff).get("/api/consent/pending/")
    assert response.status_code == 200
    [record] = response.json()
    assert record["id"] == str(pending_consent.pk)
    assert record["memorial"] == str(family.memorial.pk)
    assert record["memorial_name"] == "Grandma Rose"
    assert record["status"] == Status.PENDING


def test_approval_with_a_reason_tells_the_owner_and_opens_the_gate(
    family, client_as, pending_consent, mailoutbox, django_capture_on_commit_callbacks
):
    key = tokens.issue(family.staff).key  # API clients use tokens
    client = client_as(None)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {key}"
    with django_capture_on_commit_callbacks(execute=True):
        response = review(client, pending_consent.pk, {"decision": "approve", "reason": "Clear."})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == Status.APPROVED
    assert response.json()["review_reason"] == "Clear."
    pending_consent.refresh_from_db()
    assert pending_consent.reviewed_by == family.staff
    assert may_use(family.memorial, Scope.TRAINING)
    assert AuditEntry.objects.filter(
        action=AuditAction.CONSENT_APPROVED, target_id=str(pending_consent.pk), reason="Clear."
    ).exists()
    assert [m.to for m in mailoutbox] == [["owner@example.org"]]
    assert client.get("/api/consent/pending/").json() == []


def test_rejection_needs_a_reason_and_a_second_decision_is_a_conflict(
    family, client_as, pending_consent
):
    client = client_as(family.staff)
    empty = review(client, pending_consent.pk, {"decision": "reject", "reason": "  "})
    assert empty.status_code == 400 and empty.json()["detail"]
    bad = review(client, pending_consent.pk, {"decision": "maybe", "reason": "x"})
    assert bad.status_code == 400
    done = review(client, pending_consent.pk, {"decision": "reject", "reason": "No evidence."})
    assert done.status_code == 200 and done.json()["status"] == Status.REJECTED
    again = review(client, pending_consent.pk, {"decision": "approve", "reason": "Oops."})
    assert again.status_code == 409 and "already been reviewed" in again.json()["detail"]
    missing = review(
        client, "00000000-0000-0000-0000-000000000000", {"decision": "approve", "reason": "x"}
    )
    assert missing.status_code == 404


@pytest.mark.parametrize("role", ["owner", "contributor", "viewer", "outsider"])
def test_only_staff_reach_it(family, client_as, pending_consent, role):
    client = client_as(family.user(role))
    assert client.get("/api/consent/pending/").status_code == 404
    refused = review(client, pending_consent.pk, {"decision": "approve", "reason": "fine"})
    assert refused.status_code == 404
    pending_consent.refresh_from_db()
    assert pending_consent.status == Status.PENDING


def test_the_schema_documents_it(family, client_as):
    schema = client_as(family.staff).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "get" in schema["paths"]["/api/consent/pending/"]
    post = schema["paths"]["/api/consent/{record_id}/review/"]["post"]
    assert {"200", "400", "404", "409"} <= set(post["responses"])
