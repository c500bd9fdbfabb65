"""The audit log: append-only in the application and in the database, and tamper-evident."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from memorial.audit.actions import AuditAction
from memorial.audit.models import AppendOnlyError, AuditEntry
from memorial.audit.services import record
from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import Membership, Role
from memorial.memorials.services import change_role, remove_member
from tests import images

pytestmark = pytest.mark.django_db


def _three_entries(family) -> list[AuditEntry]:
    return [
        record(family.staff, "test.one", family.memorial, "first"),
        record(family.owner, "test.two", ("thing", "42"), "second", colour="blue"),
        record(None, "test.three", family.memorial, "third"),
    ]


def test_entries_form_a_chain(family):
    first, second, third = _three_entries(family)
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert first.actor_email == "staff@example.org" and third.actor_id is None
    assert second.target_type == "thing" and second.target_id == "42"
    assert first.memorial_id == family.memorial.pk
    out = io.StringIO()
    call_command("verify_audit_chain", stdout=out)
    assert "intact" in out.getvalue()


def test_orm_refuses_change_and_removal(family):
    entry = _three_entries(family)[0]
    entry.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).reason == "first"


def test_database_trigger_refuses_raw_sql(family):
    entry = _three_entries(family)[0]
    assert AuditEntry._meta.db_table == "audit_auditentry"
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditentry SET reason = 'forged' WHERE id = %s", [entry.pk])
    if connection.vendor == "postgresql":
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).reason == "first"


def _forge(entry_id: int) -> None:
    """Change a row behind the application's back, with the trigger out of the way."""
    forge = "UPDATE audit_auditentry SET reason = 'forged' WHERE id = %s"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE audit_auditentry DISABLE TRIGGER audit_auditentry_append_only"
            )
            cursor.execute(forge, [entry_id])
            cursor.execute(
                "ALTER TABLE audit_auditentry ENABLE TRIGGER audit_auditentry_append_only"
            )
        else:  # the test's transaction is rolled back afterwards, trigger included
            cursor.execute("DROP TRIGGER audit_auditentry_no_update")
            cursor.execute(forge, [entry_id])


def test_chain_check_finds_an_entry_altered_in_the_database(family):
    _first, second, _third = _three_entries(family)
    _forge(second.pk)
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit_chain")
    assert failure.value.returncode == 1
    assert f"entry {second.pk}" in str(failure.value)


def test_family_changes_and_deletions_are_recorded(family, client_as):
    membership = Membership.objects.get(memorial=family.memorial, user=family.viewer)
    change_role(membership, Role.CONTRIBUTOR)
    remove_member(membership)
    photo = ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("rose.jpg", images.jpeg(seed=3)),
        user=family.owner,
        attested=True,
    )
    response = client_as(family.owner).post(f"/m/{family.memorial.pk}/photos/{photo.pk}/delete/")
    assert response.status_code == 302
    entries = {e.action: e for e in AuditEntry.objects.filter(memorial_id=family.memorial.pk)}
    assert entries[AuditAction.MEMBER_ROLE_CHANGED].extra["previous"] == Role.VIEWER
    assert entries[AuditAction.MEMBER_REMOVED].extra["user"] == family.viewer.pk
    deleted = entries[AuditAction.PHOTO_DELETED]
    assert deleted.target_id == str(photo.pk) and deleted.actor_email == "owner@example.org"
    assert "rose" not in str(deleted.extra)  # identifiers, not content


def test_staff_filter_and_export_the_log(family, client_as):
    _three_entries(family)
    staff = client_as(family.staff)
    page = staff.get("/audit/", {"action": "test.two"})
    assert page.status_code == 200
    assert page.content.decode().count('data-action="test.two"') == 1
    assert 'data-action="test.one"' not in page.content.decode()
    export = staff.get("/audit/export.csv", {"actor": "staff@"})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0][0] == "id" and [r[4] for r in rows[1:]] == ["test.one"]
    for role in ("owner", "viewer", "outsider"):
        assert client_as(family.user(role)).get("/audit/").status_code == 404
    assert client_as(None).get("/audit/export.csv").status_code == 302


def test_export_cells_never_start_a_formula(family, make_user, client_as):
    """CSV injection: a spreadsheet would run "=cmd|..." in any cell, the e-mail address included."""
    mallory = make_user("=cmd|'/C calc'!A0@example.org")
    record(mallory, "@action", ("-type", "+42"), "\tpadded", note="=1+1")
    export = client_as(family.staff).get("/audit/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    columns = dict(zip(rows[0], rows[1], strict=True))  # newest first
    assert mallory.email.startswith("=cmd|")
    assert columns["actor_email"] == "'" + mallory.email
    assert columns["action"] == "'@action"
    assert columns["target_type"] == "'-type" and columns["target_id"] == "'+42"
    assert columns["reason"] == "'\tpadded"
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)
