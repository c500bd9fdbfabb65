"""Consent withdrawal: jobs stopped, everything generated deleted from the database and from the
storage (checked by listing the local folder itself), uploaded photos kept unless asked, the audit
entries kept and the chain intact; a failed deletion finishes when run again; a training that is
running when consent goes stores nothing afterwards and ends blocked."""

from __future__ import annotations

import io
from unittest import mock

import pytest
from django.core.management import call_command

from memorial.audit.models import AuditEntry
from memorial.consent.models import Status, Withdrawal
from memorial.jobs.models import GeneratedImage, Job, Kind, ModelVersion, State
from memorial.memorials.models import Photo, PhotoKind
from tests.jobs.conftest import TINY
from tests.trust.made import approve, make_everything, run_task, stored, under, upload_faces

pytestmark = pytest.mark.django_db


def _chain_intact() -> None:
    out = io.StringIO()
    call_command("verify_audit_chain", stdout=out)
    assert "intact" in out.getvalue()


def _withdraw(client, made, **data):
    url = f"/m/{made.memorial_id}/consent/{made.consent.pk}/withdraw/"
    return client.post(url, data)


def test_confirmation_page_shows_what_will_go(family, client_as):
    made = make_everything(family)
    page = client_as(family.owner).get(f"/m/{made.memorial_id}/consent/{made.consent.pk}/withdraw/")
    assert page.status_code == 200
    html = page.content.decode()
    # Plain names and thumbnails: no file names, job ids or "64 px, step 76".
    listed = html[html.index('id="withdraw-items"') : html.index("Also delete the")]
    n_made, n_videos = len(made.generated), len(made.extra["videos"])
    assert f"{n_made} AI-made photos" in listed
    assert f"{n_videos} AI-made video" in listed
    assert "1 trained model" in listed and "A model of Grandma Rose, trained on " in listed
    assert "records of the computer&#x27;s work" in listed
    for p in made.generated:
        assert f'src="/media/photos/{p.pk}/thumb/"' in listed
    assert not any(str(p.pk) in listed for p in made.uploads)
    for secret in (str(made.train.pk), str(made.model.pk), " px", "step ", ".png"):
        assert secret not in listed, secret
    assert f"Also delete the {len(made.uploads)} uploaded photos" in html
    assert Job.objects.filter(memorial_id=made.memorial_id).count() == 4  # nothing happened yet
    assert (
        client_as(family.contributor)
        .get(f"/m/{made.memorial_id}/consent/{made.consent.pk}/withdraw/")
        .status_code
        == 403
    )


def test_withdrawal_deletes_everything_made_and_keeps_uploads(family, client_as):
    made = make_everything(family)
    m = made.memorial_id
    before = stored(m)
    assert under(before, "memorials", m, "models", "datasets", made.prepare.pk)  # crops, manifest
    assert under(before, "memorials", m, "models", made.train.pk, "checkpoints")
    assert under(before, "memorials", m, "models", made.train.pk, "samples")
    assert {k for k in before if k.startswith(made.extra["report"] + "/")}  # evaluation report
    assert all(under(before, "memorials", m, "photos", p.pk) for p in made.generated)

    response = _withdraw(client_as(family.owner), made)
    withdrawal = Withdrawal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/m/{m}/consent/withdrawals/{withdrawal.pk}/"

    after = stored(m)
    assert not under(after, "memorials", m, "models")  # checkpoints, samples, data sets, reports
    assert not under(after, "memorials", m, "videos")  # through the video app's handler
    for photo in made.generated:
        assert not under(after, "memorials", m, "photos", photo.pk)
    for photo in made.uploads:  # the family's own photos stay, files and rows
        assert under(after, "memorials", m, "photos", photo.pk)
    assert after == {k for k in before if any(f"/photos/{p.pk}/" in k for p in made.uploads)}
    assert not Job.objects.filter(memorial_id=m).exists()
    assert not ModelVersion.objects.filter(memorial_id=m).exists()
    assert not GeneratedImage.objects.exists()
    assert not Photo.objects.filter(memorial_id=m, kind=PhotoKind.GENERATED).exists()
    assert Photo.objects.filter(memorial_id=m, kind=PhotoKind.UPLOADED).count() == len(made.uploads)
    made.consent.refresh_from_db()
    assert made.consent.status == Status.WITHDRAWN

    assert withdrawal.complete and withdrawal.runs == 1 and not withdrawal.remaining
    removed = {(r["kind"], r["id"]) for r in withdrawal.removed}
    assert ("model", str(made.model.pk)) in removed
    assert {
        ("job", str(j.pk)) for j in (made.prepare, made.train, made.generate, made.evaluate)
    } <= removed
    page = client_as(family.owner).get(response["Location"]).content.decode()
    assert f'data-removed-count="{len(withdrawal.removed)}"' in page and "data-complete" in page
    # The family reads what went in words, never an identifier (those are in the audit log).
    assert "1 trained model" in page and str(made.model.pk) not in page

    actions = set(AuditEntry.objects.filter(memorial_id=m).values_list("action", flat=True))
    for expected in (
        "consent.withdrawn",
        "withdrawal.started",
        "withdrawal.finished",
        "model.deleted",
        "job.deleted",
        "photo.deleted",
    ):
        assert expected in actions
    # Identifiers, not content: no caption of a generated photo in the log.
    assert not AuditEntry.objects.filter(extra__icontains="smiling").exists()
    _chain_intact()


def test_withdrawal_can_take_the_uploaded_photos_too(family, client_as):
    made = make_everything(family)
    _withdraw(client_as(family.owner), made, include_uploads="on")
    assert stored(made.memorial_id) == set()
    assert not Photo.objects.filter(memorial_id=made.memorial_id).exists()
    assert AuditEntry.objects.filter(action="photo.deleted").count() == len(made.uploads) + 2
    _chain_intact()


def test_withdrawal_covered_by_other_consent_deletes_nothing(family, client_as):
    made = make_everything(family)
    approve(family.memorial)  # a second approved record covers the same uses
    before = stored(made.memorial_id)
    _withdraw(client_as(family.owner), made)
    assert stored(made.memorial_id) == before
    assert Withdrawal.objects.get().removed == []
    assert ModelVersion.objects.filter(pk=made.model.pk).exists()


def test_a_failed_deletion_is_finished_by_running_it_again(family, client_as):
    made = make_everything(family)
    m = made.memorial_id
    client = client_as(family.owner)
    with mock.patch("memorial.jobs.items.JobHandler.delete", side_effect=OSError("S3 down")):
        response = _withdraw(client, made)
    withdrawal = Withdrawal.objects.get()
    assert {"kind": "job", "id": str(made.train.pk), "memorial": str(m)} in withdrawal.remaining
    assert not withdrawal.complete
    page = client.get(response["Location"]).content.decode()
    assert "Run the deletion again" in page and str(made.train.pk) not in page
    assert "of the computer&#x27;s work" in page  # "4 records of the computer's work …"
    assert Job.objects.filter(pk=made.train.pk).exists()
    assert not ModelVersion.objects.exists()  # the other kinds went

    again = client.post(response["Location"])
    assert again.status_code == 302
    withdrawal.refresh_from_db()
    assert withdrawal.complete and withdrawal.runs == 2
    assert not ModelVersion.objects.exists() and not Job.objects.filter(memorial_id=m).exists()
    assert not under(stored(m), "memorials", m, "models")
    assert AuditEntry.objects.filter(action="withdrawal.finished").count() == 2
    _chain_intact()


def test_queued_jobs_are_cancelled_and_never_start(family, client_as):
    approve_record = approve(family.memorial)
    upload_faces(family, 2)
    queued = Job.objects.create(
        kind=Kind.PREPARE, memorial=family.memorial, parameters={"sizes": [16]}, queue="cpu"
    )
    client_as(family.owner).post(f"/m/{family.memorial.pk}/consent/{approve_record.pk}/withdraw/")
    withdrawal = Withdrawal.objects.get()
    assert withdrawal.cancelled_jobs == [str(queued.pk)]
    assert not Job.objects.filter(pk=queued.pk).exists()  # cancelled, then deleted
    assert "withdrawal.started" in AuditEntry.objects.values_list("action", flat=True)


def test_a_running_training_stores_nothing_after_withdrawal_and_ends_blocked(family):
    """Consent is withdrawn from inside the training's first step (as if by the owner at that
    moment): the task stops at its next check, uploads no checkpoint or sample and ends
    blocked; the next run of the deletion removes its row."""
    from memorial.consent import services
    from memorial.jobs import retirement, training

    made = make_everything(family)
    m = made.memorial_id
    train = Job.objects.create(
        kind=Kind.TRAIN,
        memorial=family.memorial,
        requested_by=family.contributor,
        parameters={"engine": {**TINY, "steps": 40}, "dataset": made.prepare.result["dataset"]},
        queue="gpu",
        total=40,
    )
    real_train = training.train_model
    seen = {}

    def train_and_withdraw(config, progress, should_cancel):
        def on_progress(p):
            if p.event == "step" and "withdrawal" not in seen:
                Job.objects.filter(pk=train.pk).update(state=State.RUNNING)
                seen["withdrawal"] = services.withdraw(
                    made.consent.pk, family.memorial, family.owner
                )
                seen["after"] = stored(m)
            progress(p)

        return real_train(config, progress=on_progress, should_cancel=should_cancel)

    real_settle = retirement.settle

    def settle(job):
        seen["ended"] = Job.objects.values("state", "message").get(pk=job.pk)
        real_settle(job)

    with (
        mock.patch.object(training, "train_model", train_and_withdraw),
        mock.patch.object(retirement, "settle", settle),
    ):
        outcome = run_task("train", train)
    assert outcome == "blocked"
    assert seen["ended"]["state"] == State.BLOCKED and "withdrawn" in seen["ended"]["message"]
    assert not under(seen["after"], "memorials", m, "models")
    assert not under(stored(m), "memorials", m, "models")  # nothing written after withdrawal
    withdrawal = seen["withdrawal"]
    # When consent went, the training was still running: its row had to wait...
    assert {"kind": "job", "id": str(train.pk), "memorial": str(m)} in withdrawal.remaining
    # ...and the task, ending blocked, ran the waiting deletion again itself.
    withdrawal.refresh_from_db()
    assert withdrawal.complete and withdrawal.runs == 2
    assert not Job.objects.filter(memorial_id=m).exists()


def test_the_api_withdrawal_runs_the_same_cascade(family, client_as):
    made = make_everything(family)
    m = made.memorial_id
    response = client_as(family.owner).post(f"/api/consent/{made.consent.pk}/withdraw/")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert Withdrawal.objects.get().complete
    assert not under(stored(m), "memorials", m, "models")
    assert not ModelVersion.objects.exists()
    assert Photo.objects.filter(memorial_id=m).count() == len(made.uploads)
