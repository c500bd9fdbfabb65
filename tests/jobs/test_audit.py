"""Starting, retrying and cancelling jobs is written to the audit log: who, which job, how."""

from __future__ import annotations

import pytest

from memorial.audit.actions import AuditAction
from memorial.audit.models import AuditEntry
from memorial.consent.models import Scope
from memorial.jobs import dispatch
from memorial.jobs.models import Job, Kind, ModelVersion, State
from tests.jobs.conftest import approve
from tests.jobs.test_train_form import _captioned_photos

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    monkeypatch.setattr(dispatch, "send", lambda job: None)  # only the ledger and the log matter


def _entries(action):
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def test_start_cancel_and_retry_are_audited(family, client_as):
    approve(family.memorial, Scope.TRAINING, Scope.GENERATED_PHOTOS)
    _captioned_photos(family, 3)
    contributor = client_as(family.contributor)

    contributor.post(f"/m/{family.memorial.pk}/train/", {"preset": "quick", "budget": "15"})
    train = Job.objects.get(kind=Kind.TRAIN)
    [started] = _entries(AuditAction.JOB_STARTED)
    assert started.actor_email == family.contributor.email
    assert (started.target_type, started.target_id) == ("jobs.job", str(train.pk))
    assert started.memorial_id == family.memorial.pk
    assert started.extra["kind"] == "train" and started.extra["preset"] == "quick"
    assert started.extra["budget_minutes"] == 15

    Job.objects.filter(pk=train.after_id).update(state=State.RUNNING)
    owner = client_as(family.owner)
    owner.post(f"/api/jobs/{train.after_id}/cancel/")
    owner.post(f"/api/jobs/{train.after_id}/cancel/")  # again: nothing changes, nothing logged
    [cancelled] = _entries(AuditAction.JOB_CANCELLED)
    assert cancelled.actor_email == family.owner.email
    assert cancelled.target_id == str(train.after_id) and cancelled.extra["state"] == "running"

    Job.objects.filter(pk=train.pk).update(state=State.FAILED)
    contributor.post(f"/m/{family.memorial.pk}/jobs/{train.pk}/retry/")
    retried = _entries(AuditAction.JOB_STARTED)[-1]
    assert retried.target_id == str(train.pk) and retried.extra["retry"] is True

    model = ModelVersion.objects.create(
        memorial=family.memorial,
        job=Job.objects.create(kind=Kind.TRAIN, memorial=family.memorial, state=State.SUCCEEDED),
        checkpoint="none",
        resolution=16,
    )
    contributor.post(model.get_absolute_url(), {"caption": "smiling", "count": 2, "seed": 3})
    generated = _entries(AuditAction.JOB_STARTED)[-1]
    assert generated.extra == {
        "kind": "generate",
        "model_version": str(model.pk),
        "count": 2,
        "seed": 3,
    }

    staff = client_as(family.staff)
    queued = Job.objects.get(kind=Kind.GENERATE)
    staff.post("/staff/queues/", {"action": "cancel", "job": str(queued.pk)})
    by_staff = _entries(AuditAction.JOB_CANCELLED)[-1]
    assert by_staff.actor_email == family.staff.email and by_staff.target_id == str(queued.pk)
    assert by_staff.extra["state"] == "cancelled"
