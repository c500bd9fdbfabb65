"""How long a training run would take, shown on the "Train a model" form before it starts.

Three parts, all from the ledger: photo preparation (seconds per photo of this instance's
finished preparations, else a default), training (the images per second this instance's
finished training runs reached at that resolution, else the preset's default, capped by the
time budget) and the wait in the GPU queue (the running jobs' ETAs, see fairness.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from statistics import median
from typing import Any

from memorial.jobs import fairness, presets
from memorial.jobs.models import Job, Kind, State

#: Seconds to find and crop the face in one photo, until the ledger knows better.
PREPARE_SECONDS_PER_PHOTO = 1.0
#: How many recent finished jobs the measured figures come from.
RECENT = 10


@dataclass(frozen=True)
class Throughput:
    images_per_second: float
    measured: bool  # from this instance's finished runs (else the preset's default)


def throughput(resolution: int, default: float) -> Throughput:
    """The median images per second of recent finished training runs at ``resolution``."""
    figures = list(
        Job.objects.filter(
            kind=Kind.TRAIN,
            state=State.SUCCEEDED,
            images_per_second__gt=0,
            parameters__engine__resolution=resolution,
        )
        .order_by("-finished_at")
        .values_list("images_per_second", flat=True)[:RECENT]
    )
    if figures:
        return Throughput(float(median(figures)), True)
    return Throughput(default, False)


def prepare_seconds_per_photo() -> float:
    """Median seconds per photo of recent finished preparations."""
    rates = []
    for started, finished, photos in (
        Job.objects.filter(
            kind=Kind.PREPARE,
            state=State.SUCCEEDED,
            started_at__isnull=False,
            finished_at__isnull=False,
            step__gt=0,
        )
        .order_by("-finished_at")
        .values_list("started_at", "finished_at", "step")[:RECENT]
    ):
        rates.append((finished - started).total_seconds() / photos)
    return median(rates) if rates else PREPARE_SECONDS_PER_PHOTO


@dataclass(frozen=True)
class PresetEstimate:
    """Seconds for one preset; the time budget is applied by :meth:`Estimate.total`."""

    training_seconds: float  # all the preset's steps at the measured throughput
    images_per_second: float
    measured: bool


@dataclass(frozen=True)
class Estimate:
    prepare_seconds: float
    wait_seconds: float | None  # None: the queue is busy and no ETA is known yet
    presets: dict[str, PresetEstimate]

    def total(self, preset: str, budget_minutes: int) -> float:
        """Preparation + queue wait + training (at most the budget), in seconds."""
        training = min(self.presets[preset].training_seconds, budget_minutes * 60)
        return self.prepare_seconds + (self.wait_seconds or 0.0) + training

    def as_data(self) -> dict[str, Any]:
        """For the form's script (static/js/jobs.js), which redoes :meth:`total` live."""
        return {
            "prepare_seconds": round(self.prepare_seconds, 1),
            "wait_seconds": None if self.wait_seconds is None else round(self.wait_seconds, 1),
            "presets": {key: asdict(value) for key, value in self.presets.items()},
        }


def for_memorial(memorial, engine: dict | None = None) -> Estimate:
    photos = (
        memorial.photos.filter(kind="uploaded", hidden=False)
        .exclude(caption__regex=r"^\s*$")
        .count()
    )
    per_photo = prepare_seconds_per_photo()
    found = {}
    for key, preset in presets.PRESETS.items():
        values = presets.engine_values(key, engine)
        speed = throughput(values["resolution"], preset["images_per_second"])
        batch = values.get("batch") or presets.DEFAULT_BATCH
        found[key] = PresetEstimate(
            training_seconds=values["steps"] * batch / speed.images_per_second,
            images_per_second=round(speed.images_per_second, 2),
            measured=speed.measured,
        )
    return Estimate(photos * per_photo, fairness.estimated_wait("gpu"), found)
