"""How long a training run would take, shown on the "Train a model" form before it starts.

Three parts: photo preparation (seconds per photo of this instance's finished preparations,
else a default), training (capped by the time budget) and the wait in the GPU queue (the running
jobs' ETAs, see fairness.py). The training speed, in order of preference:

1. the images per second this instance's finished training runs reached at that resolution;
2. the speed a training worker measured itself when it started (tasks.probe_speed, stored with
   workers.store_speed), scaled by :data:`RESOLUTION_COST` when it was measured at another
   resolution;
3. the preset's default, a GPU's figure (wrong by a factor of 20 on a CPU): before any worker
   has measured itself (the first minute or two after Memorial starts) the form says the time is
   not known yet rather than show it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from statistics import median
from typing import Any

from memorial.jobs import fairness, presets, workers
from memorial.jobs.models import Job, Kind, State

#: Seconds to find and crop the face in one photo, until the ledger knows better.
PREPARE_SECONDS_PER_PHOTO = 1.0
#: How many recent finished jobs the measured figures come from.
RECENT = 10
#: Training seconds per image at each resolution, relative to 64 px: scales a worker's 64 px
#: speed probe to the other presets. Far below the pixel ratio (4x, 16x): the engine's channels
#: narrow as the resolution grows. Measured once on a 2-core CPU, per CPU-second (9.0, 5.8 and
#: 3.2 images): ``python -m gan_engine.speed --resolutions 64,128,256 --steps 2 --warmup 1
#: --batch 8 --threads 1``; see BENCHMARKS.md "Training speed in the product".
RESOLUTION_COST = {64: 1.0, 128: 1.6, 256: 2.8}

#: Where a training speed came from.
RUNS, WORKER, DEFAULT = "runs", "worker", "default"


@dataclass(frozen=True)
class Throughput:
    images_per_second: float
    source: str  # RUNS, WORKER or DEFAULT
    device: str = ""  # "cpu" or "cuda" for a worker's own figure

    @property
    def measured(self) -> bool:
        """Measured on this instance (its runs or its worker), not the preset's guess."""
        return self.source != DEFAULT


def _cost(resolution: int) -> float:
    """:data:`RESOLUTION_COST`; another size scales the nearest measured one by the side length
    (measured: x1.6-1.8 per doubling of the side, nearer to linear than to the pixel count)."""
    if resolution in RESOLUTION_COST:
        return RESOLUTION_COST[resolution]
    nearest = min(RESOLUTION_COST, key=lambda r: abs(r - resolution))
    return RESOLUTION_COST[nearest] * resolution / nearest


def _speed_records() -> list[dict[str, Any]]:
    """The speed probes of the workers online now, else of every worker that ever measured."""
    records = workers.speeds()
    return [r for r in records if r["online"]] or records


def worker_throughput(resolution: int) -> Throughput | None:
    """The median speed the training workers measured themselves, at ``resolution`` (their
    figure at that resolution, else their first figure scaled by :data:`RESOLUTION_COST`)."""
    speeds, devices = [], set()
    for record in _speed_records():
        figures = record.get("figures") or []
        if not figures:
            continue
        same = [f for f in figures if f["resolution"] == resolution]
        figure = same[0] if same else figures[0]
        scale = _cost(figure["resolution"]) / _cost(resolution)
        speeds.append(figure["images_per_second"] * scale)
        devices.add(figure["device"])
    if not speeds:
        return None
    device = "cpu" if devices == {"cpu"} else "cuda"
    return Throughput(float(median(speeds)), WORKER, device)


def cpu_only() -> bool:
    """True when the workers that measured their speed all train on the CPU (no GPU here)."""
    devices = {
        figure["device"] for record in _speed_records() for figure in record.get("figures") or []
    }
    return devices == {"cpu"}


def throughput(resolution: int, default: float) -> Throughput:
    """The training speed at ``resolution``, from the best source there is (see the module's
    docstring): recent finished runs (median), a worker's own probe, the preset's default."""
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
        return Throughput(float(median(figures)), RUNS)
    return worker_throughput(resolution) or Throughput(default, DEFAULT)


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
    source: str  # RUNS, WORKER or DEFAULT (see throughput)


@dataclass(frozen=True)
class Estimate:
    prepare_seconds: float
    wait_seconds: float | None  # None: the queue is busy and no ETA is known yet
    presets: dict[str, PresetEstimate]
    cpu_only: bool = False  # the training workers have no GPU (see cpu_only())

    @property
    def known(self) -> bool:
        """Some training speed was measured here (a finished run or a worker's own probe); until
        then the preset's GPU guess says nothing true about this server and is not shown."""
        return any(value.measured for value in self.presets.values())

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
            "cpu_only": self.cpu_only,
            "known": self.known,
        }


def for_memorial(memorial, engine: dict | None = None) -> Estimate:
    photos = memorial.photos.filter(kind="uploaded", hidden=False).count()  # captioned or not
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
            source=speed.source,
        )
    return Estimate(photos * per_photo, fairness.estimated_wait("gpu"), found, cpu_only())
