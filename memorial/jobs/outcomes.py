"""How a job's failures are said on the ledger: an expected failure in our own translatable words,
an engine error in the engine's English, running out of GPU memory, and a training that can be
retried from its checkpoint. Shared by the tasks (tasks.py) and the training task's steps
(training.py); no torch here."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from gan_engine.errors import DataError, EngineError
from memorial.jobs import runner, texts
from memorial.jobs.models import Job, Kind
from memorial.jobs.texts import t


class JobError(DataError):
    """An expected failure whose words are a texts message (translated for each reader)."""

    def __init__(self, msg: texts.Msg) -> None:
        super().__init__(texts.english(msg))
        self.msg = msg


def said(error: EngineError) -> texts.Msg:
    """An engine error for the ledger: our own messages stay translatable, the engine's English
    (it knows no Django) is shown as it is."""
    return getattr(error, "msg", None) or texts.text(str(error))


def failure(job: Job, error: texts.Msg) -> texts.Msg:
    """``error``, and for a training that left a checkpoint, the step it can be retried from."""
    if job.kind == Kind.TRAIN and job.checkpoint_step:
        return texts.join(
            error,
            t(gettext_noop("It can be retried from step %(step)d."), step=job.checkpoint_step),
        )
    return error


def out_of_memory_failed(run: runner.Run) -> texts.Msg:
    """Even batch size 1 did not fit: say where it started and what a person can do."""
    first = run.job.result.get("oom", {}).get("from")
    if first:
        return t(
            gettext_noop(
                "Ran out of GPU memory at batch %(batch)d and still at batch 1; choose a lower "
                "quality or a worker with more GPU memory."
            ),
            batch=first,
        )
    return t(
        gettext_noop(
            "Ran out of GPU memory even at batch 1; choose a lower quality or a worker with "
            "more GPU memory."
        )
    )


def out_of_memory_note(result: dict) -> texts.Msg | None:
    """The ledger's sentence about smaller batches after running out of GPU memory."""
    oom = result.get("oom")
    if not oom:
        return None
    if oom.get("succeeded"):
        return t(
            gettext_noop(
                "Ran out of GPU memory at batch %(from)d; retried at %(to)d and succeeded."
            ),
            **{"from": oom["from"], "to": oom["to"]},
        )
    return t(
        gettext_noop("Ran out of GPU memory at batch %(from)d; retrying at %(to)d."),
        **{"from": oom["from"], "to": oom["to"]},
    )
