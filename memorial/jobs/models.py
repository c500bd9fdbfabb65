"""The job ledger, trained models and the links from generated photos to the model that made them.

Every page, API answer and websocket message about a job is read from :class:`Job`; the worker
writes it. Files (data sets, checkpoints, sample grids) live in the shared storage, so any worker
can continue any job; the ledger holds their storage keys.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from memorial.jobs import texts


class Kind(models.TextChoices):
    PREPARE = "prepare", _("Preparing photos")
    TRAIN = "train", _("Training")
    GENERATE = "generate", _("Generating photos")
    EVALUATE = "evaluate", _("Evaluating")
    SPEAK = "speak", _("Making a talking portrait")
    FILM = "film", _("Making a film")
    RESTORE = "restore", _("Restoring a photo")


class State(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Finished")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    BLOCKED = "blocked", _("Blocked")


#: States a job never leaves on its own (a failed or cancelled one can be retried by a person).
FINISHED = frozenset({State.SUCCEEDED, State.FAILED, State.CANCELLED, State.BLOCKED})
RETRYABLE = frozenset({State.FAILED, State.CANCELLED})
#: Which queue each kind runs on: GPU work on `gpu`, the rest on `cpu`.
QUEUES = {
    Kind.PREPARE: "cpu",
    Kind.TRAIN: "gpu",
    Kind.GENERATE: "gpu",
    Kind.EVALUATE: "cpu",
    # Videos (memorial.videos): rendering is the long part; a film runs the generator.
    Kind.SPEAK: "gpu",
    Kind.FILM: "gpu",
    # Restoring a photo (memorial.restoration) runs on the CPU: OpenCV and ncnn, no torch.
    Kind.RESTORE: "cpu",
}


def job_file_path(job: Job, filename: str) -> str:
    """Storage keys carry identifiers only."""
    return f"memorials/{job.memorial_id}/models/{job.pk}/{filename}"


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    memorial = models.ForeignKey(
        "memorials.Memorial", on_delete=models.CASCADE, related_name="jobs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    parameters = models.JSONField(default=dict, blank=True)
    #: A job that must succeed first (training waits for its photo preparation).
    after = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="followers"
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    # Progress, as the worker last reported it.
    step = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    percent = models.FloatField(default=0.0)
    eta_seconds = models.FloatField(null=True, blank=True)
    losses = models.JSONField(default=dict, blank=True)
    images_per_second = models.FloatField(null=True, blank=True)
    message = models.TextField(blank=True)
    #: ``message`` as a message id and parameters, shown in the reader's language (see texts.py).
    message_code = models.JSONField(default=dict, blank=True)
    # Where and how often it ran.
    queue = models.CharField(max_length=32, blank=True)
    celery_task_id = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    deliveries = models.PositiveIntegerField(default=0)
    # Results.
    checkpoint = models.CharField(max_length=255, blank=True)  # storage key of the latest one
    checkpoint_step = models.PositiveIntegerField(null=True, blank=True)
    resumed_from = models.PositiveIntegerField(null=True, blank=True)
    #: Seconds of training so far, over every attempt: a resumed training gets only what is left
    #: of its time budget.
    trained_seconds = models.FloatField(default=0.0)
    sample = models.FileField(upload_to=job_file_path, max_length=255, blank=True)
    error = models.TextField(blank=True)
    error_code = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    cancel_requested = models.BooleanField(default=False)
    #: Staff cleared it from the queue monitor's failed list (the row stays, for the record).
    dismissed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["memorial", "-created_at"]), models.Index(fields=["state"])]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} ({self.state})"

    @property
    def shown_message(self) -> str:
        """``message`` in the reader's language (workers write English plus a code)."""
        return texts.shown(self.message, self.message_code)

    @property
    def shown_error(self) -> str:
        return texts.shown(self.error, self.error_code)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def retryable(self) -> bool:
        return self.state in RETRYABLE

    @property
    def cancellable(self) -> bool:
        return self.state in (State.QUEUED, State.RUNNING) and not self.cancel_requested

    def get_absolute_url(self) -> str:
        return reverse("jobs:detail", kwargs={"memorial_id": self.memorial_id, "job_id": self.pk})

    def sample_url(self) -> str:
        if not self.sample:
            return ""
        step = self.result.get("sample_step", self.step)
        return reverse("jobs:sample", kwargs={"job_id": self.pk}) + f"?step={step}"


class ModelVersion(models.Model):
    """A trained generator of one person, made by one training job."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    memorial = models.ForeignKey(
        "memorials.Memorial", on_delete=models.CASCADE, related_name="model_versions"
    )
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="model_version")
    checkpoint = models.CharField(max_length=255)  # storage key
    resolution = models.PositiveIntegerField()
    step = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("trained model")
        verbose_name_plural = _("trained models")

    def __str__(self) -> str:
        return f"{self.resolution} px, step {self.step}"

    def get_absolute_url(self) -> str:
        return reverse("jobs:model", kwargs={"memorial_id": self.memorial_id, "model_id": self.pk})


class GeneratedImage(models.Model):
    """Which model, caption and seed made a generated photo (the photo itself is a gallery item)."""

    photo = models.OneToOneField(
        "memorials.Photo", on_delete=models.CASCADE, related_name="generation"
    )
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.SET_NULL, null=True, related_name="images"
    )
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, related_name="images")
    caption = models.TextField(blank=True)
    seed = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seed"]
        verbose_name = _("generated image")
        verbose_name_plural = _("generated images")

    def __str__(self) -> str:
        return f"seed {self.seed}: {self.caption}"
