"""Takedown and withdrawal handlers for what jobs make: trained models and the jobs' files.

* "model" (ModelVersion): derived are the photos generated with it, the training job that made
  it (checkpoints, sample grids), its evaluation jobs and, when no other model depends on it,
  the prepared data set it learnt from.
* "job" (Job): its storage folder (checkpoints, samples, evaluation reports) and, for a
  preparation, the prepared data set (crops and manifest); a training's derived item is its model.
* A photo's derived items (added with `add_deriver`): the preparations whose data set used it,
  the trainings on that data set and so their models and everything those models made.

A job that is still running cannot lose its ledger row under the worker (the worker writes to
it): it is retired (see retirement.py: the task checks before storing any file) and asked
to stop; its files go now and its row on a later run of the deletion, once it has stopped (its
worker runs the deletion again as it ends). A retired job whose worker is gone (no lease) is
ended blocked by the deletion itself and deleted at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from django.core.files.storage import default_storage
from django.db import transaction

from memorial.audit.actions import AuditAction
from memorial.audit.services import note
from memorial.jobs import files
from memorial.jobs.models import FINISHED, GeneratedImage, Job, Kind, ModelVersion
from memorial.jobs.retirement import end_if_abandoned, retire
from memorial.moderation import items as registry
from memorial.moderation.items import Item, uuids
from memorial.moderation.storage import delete_key, delete_prefix

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"  # gan_engine.data.MANIFEST_NAME, without importing the engine here


def dataset_of(job: Job) -> str:
    """The storage key of the data set a job made (preparation) or learnt from (training)."""
    if job.kind == Kind.PREPARE:
        return job.result.get("dataset") or files.prefix(job.memorial_id, "datasets", job.pk)
    if job.kind == Kind.TRAIN:
        after = job.after
        return job.parameters.get("dataset") or (after.result.get("dataset", "") if after else "")
    return ""


def photos_in_dataset(key: str) -> set[str]:
    """Ids of the photos whose crops are in a data set: recorded by the preparation, else read
    from the stored manifest (where preparation writes each entry's source photo id)."""
    if not key:
        return set()
    prepare = Job.objects.filter(kind=Kind.PREPARE, result__dataset=key).first()
    if prepare is not None and "photos" in prepare.result:
        return {str(p) for p in prepare.result["photos"]}
    try:
        with default_storage.open(f"{key}/{MANIFEST}", "rb") as handle:
            manifest = json.load(handle)
    except (FileNotFoundError, OSError, ValueError):
        return set()
    except Exception:  # S3 reports a missing key in its own way
        log.info("no manifest under %s", key, exc_info=True)
        return set()
    return {str(entry.get("source", "")) for entry in manifest.get("entries", [])}


def _job_item(job: Job) -> Item:
    return Item("job", str(job.pk), str(job.memorial_id), f"{job.get_kind_display()} {job.pk}")


def _model_item(model: ModelVersion) -> Item:
    return Item("model", str(model.pk), str(model.memorial_id), str(model))


def _photo_items(photo_ids: Iterable) -> list[Item]:
    return registry.HANDLERS["photo"].find([str(p) for p in photo_ids])


class JobHandler:
    kind = "job"

    def find(self, ids: list[str]) -> list[Item]:
        jobs = Job.objects.filter(pk__in=uuids(ids)).order_by("created_at", "pk")
        return [_job_item(j) for j in jobs]

    def derived(self, item: Item) -> list[Item]:
        job = Job.objects.filter(pk=item.id).first()
        if job is None:
            return []
        found: list[Item] = []
        model = ModelVersion.objects.filter(job=job).first()
        if model is not None:
            found.append(_model_item(model))
        if job.kind == Kind.PREPARE:
            key = dataset_of(job)
            users = Job.objects.filter(kind=Kind.TRAIN, memorial_id=job.memorial_id)
            found.extend(
                _job_item(j) for j in users if j.after_id == job.pk or dataset_of(j) == key
            )
        return found

    def hide(self, items: list[Item]) -> None:
        for job in Job.objects.filter(pk__in=uuids(i.id for i in items)):
            retire(job)

    def delete(self, items: list[Item]) -> None:
        for job in Job.objects.filter(pk__in=uuids(i.id for i in items)):
            retire(job)
            job.refresh_from_db()
            delete_prefix(files.prefix(job.memorial_id, job.pk))
            dataset = dataset_of(job)
            if dataset:  # the crops it made or learnt from
                delete_prefix(dataset)
            for key in (job.checkpoint, job.sample.name if job.sample else ""):
                delete_key(key)
            if not end_if_abandoned(job):
                continue  # still stopping: its row goes on the next run (it stays "remaining")
            note(AuditAction.JOB_DELETED, job, kind=job.kind)
            job.delete()

    def stored_under(self, ref: dict) -> list[str]:
        return [
            files.prefix(ref["memorial"], ref["id"]),
            files.prefix(ref["memorial"], "datasets", ref["id"]),
        ]

    def generated_of(self, memorial_id) -> list[Item]:
        jobs = Job.objects.filter(memorial_id=memorial_id).order_by("created_at", "pk")
        return [_job_item(j) for j in jobs]


class ModelHandler:
    kind = "model"

    def find(self, ids: list[str]) -> list[Item]:
        models = ModelVersion.objects.filter(pk__in=uuids(ids)).order_by("created_at", "pk")
        return [_model_item(m) for m in models]

    def derived(self, item: Item) -> list[Item]:
        model = ModelVersion.objects.select_related("job").filter(pk=item.id).first()
        if model is None:
            return []
        images = GeneratedImage.objects.filter(model_version=model).values_list(
            "photo_id", flat=True
        )
        found = _photo_items(images)
        users = Job.objects.filter(memorial_id=model.memorial_id).exclude(kind=Kind.PREPARE)
        found.extend(
            _job_item(j)
            for j in users
            if j.pk == model.job_id or j.parameters.get("model_version") == str(model.pk)
        )
        prepare = model.job.after
        if prepare is not None and not (
            ModelVersion.objects.filter(job__after=prepare).exclude(pk=model.pk).exists()
        ):
            found.append(_job_item(prepare))  # its data set serves no other model
        return found

    def hide(self, items: list[Item]) -> None:
        for model in ModelVersion.objects.filter(pk__in=uuids(i.id for i in items)):
            for job in Job.objects.filter(parameters__model_version=str(model.pk)):
                retire(job)  # no more photos from it

    def delete(self, items: list[Item]) -> None:
        for model in ModelVersion.objects.filter(pk__in=uuids(i.id for i in items)):
            self.hide([_model_item(model)])
            key = model.checkpoint
            note(AuditAction.MODEL_DELETED, model, step=model.step, resolution=model.resolution)
            model.delete()
            transaction.on_commit(lambda k=key: delete_key(k))

    def generated_of(self, memorial_id) -> list[Item]:
        models = ModelVersion.objects.filter(memorial_id=memorial_id).order_by("created_at", "pk")
        return [_model_item(m) for m in models]


def trained_on_photo(item: Item) -> list[Item]:
    """The preparations whose data set holds this photo's crops (or that are still running and may
    be reading it), and the trainings on them (and so, through their derived items, their models
    and everything those made)."""
    found: list[Item] = []
    for job in Job.objects.filter(
        memorial_id=item.memorial_id, kind__in=[Kind.PREPARE, Kind.TRAIN]
    ):
        if job.kind == Kind.PREPARE and job.state not in FINISHED:
            found.append(_job_item(job))  # may be reading the photo now: stop it and its training
        elif item.id in photos_in_dataset(dataset_of(job)):
            found.append(_job_item(job))
    return found


registry.register(JobHandler())
registry.register(ModelHandler())
registry.add_deriver("photo", trained_on_photo)
