"""What the "Train a model" form offers, turned into engine settings (plain data, no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from gan_engine.prior import PriorInfo, list_priors  # reads prior.json files only: no torch
from gan_engine.prior import problem as prior_problem

# Quality presets: resolution and an upper bound on steps; the time budget usually ends sooner.
# ``images_per_second`` is the duration estimate's guess until this instance has finished a
# training run at that resolution (then the ledger's measured figure is used, see estimate.py):
# roughly one mid-range GPU with the engine's automatic batch.
PRESETS = {
    "quick": {
        "resolution": 64,
        "steps": 20_000,
        "label": _("Quick: 64 px"),
        "images_per_second": 400.0,
    },
    "standard": {
        "resolution": 128,
        "steps": 40_000,
        "label": _("Standard: 128 px"),
        "images_per_second": 150.0,
    },
    "high": {
        "resolution": 256,
        "steps": 80_000,
        "label": _("High: 256 px"),
        "images_per_second": 40.0,
    },
}
#: The batch the engine picks on its own (``batch: 0``) is not in the ledger; assume this one.
DEFAULT_BATCH = 16
# Time budgets in minutes.
BUDGETS = {
    15: _("15 minutes"),
    60: _("1 hour"),
    240: _("4 hours"),
    720: _("12 hours"),
}
MAX_GENERATE = 16
#: gan_engine.checkpoint.CHECKPOINT_NAME (not imported: web code never loads the engine).
CHECKPOINT_FILE = "checkpoint.pt"

#: The prior choice meaning "the prior made for this quality's size, if one is installed" (the
#: default of the form and the API), and the explicit "from scratch".
AUTO = "auto"
NONE = "none"

#: Engine settings a job may carry (tests and staff use small values); anything else is refused.
ENGINE_KEYS = frozenset(
    {
        "resolution",
        "steps",
        "batch",
        "seed",
        "width",
        "z_dim",
        "cond_dim",
        "threads",
        "device",
        "checkpoint_every_steps",
        "checkpoint_every_seconds",
        "sample_every",
        "sample_every_seconds",
        "sample_count",
        "min_photos",
        "max_rollbacks",
        "inject_nan_steps",
        "inject_oom_steps",
    }
)


def engine_values(preset: str, engine: dict | None = None) -> dict:
    """The engine settings a training job of ``preset`` gets (with this instance's overrides)."""
    chosen = PRESETS[preset]
    values = {"resolution": chosen["resolution"], "steps": chosen["steps"]}
    overrides = {**settings.JOB_ENGINE_OVERRIDES, **(engine or {})}
    values.update({k: v for k, v in overrides.items() if k in ENGINE_KEYS})
    return values


def train_parameters(
    preset: str, budget_minutes: int, engine: dict | None = None, prior: str = ""
) -> dict:
    params = {
        "preset": preset,
        "time_budget_seconds": int(budget_minutes) * 60,
        "engine": engine_values(preset, engine),
        # After training, an evaluation report on the held-out photos (training.queue_evaluation).
        "evaluation": {"samples": settings.JOB_EVALUATION_SAMPLES},
    }
    if prior:
        params["prior"] = prior
        # The prior defines the networks of a model started from it (e.g. caption_bias=False):
        # recorded in the job's own settings so that a resumed or continued run builds the same.
        found = installed_priors().get(prior)
        if found is not None:
            params["engine"].update(found.architecture)
    return params


@dataclass(frozen=True)
class InstalledPrior:
    """A general face prior a training can start from; ``resolution`` is None for an
    administrator's plain pretraining checkpoint (no prior.json: its size is unknown here)."""

    name: str
    path: Path
    resolution: int | None
    shipped: bool
    #: The networks it defines, from prior.json, without the resolution (empty for a plain run).
    architecture: dict = field(default_factory=dict)
    #: Why it cannot be used (no model card, weights missing or of the wrong size), in the
    #: engine's words naming the file; "" when it can (its checksum is checked on the worker).
    problem: str = ""


def installed_priors() -> dict[str, InstalledPrior]:
    """Every prior, by name: those that ship with Memorial (gan_engine/weights/, or
    ``GAN_ENGINE_SHIPPED_PRIORS``), replaced by the administrator's of the same name in
    ``MEMORIAL_PRIORS_DIR``: an exported prior (``<name>/prior.json``) or a pretraining run
    (``<name>/checkpoint.pt``, the folder ``python -m gan_engine pretrain --out`` writes, or
    ``<name>.pt``). Reads manifests and file names only: no torch in the web process."""
    root = Path(settings.PRIORS_DIR)
    manifests = list_priors(admin=root)
    found = {name: _from_manifest(name, info) for name, info in manifests.items() if info.shipped}
    if root.is_dir():
        for run in root.glob(f"*/{CHECKPOINT_FILE}"):
            found[run.parent.name] = InstalledPrior(run.parent.name, run, None, False)
        for run in root.glob("*.pt"):
            if run.is_file():
                found[run.stem] = InstalledPrior(run.stem, run, None, False)
    for name, info in manifests.items():
        if not info.shipped:
            found[name] = _from_manifest(name, info)
    return dict(sorted(found.items()))


def _from_manifest(name: str, info: PriorInfo) -> InstalledPrior:
    """An exported prior, by its folder's name (what the form offers and a job records)."""
    networks = {k: v for k, v in info.architecture.items() if k != "resolution"}
    trouble = prior_problem(info) or ""
    return InstalledPrior(name, info.folder, info.resolution, info.shipped, networks, trouble)


def priors() -> list[str]:
    """The names of :func:`installed_priors`."""
    return list(installed_priors())


def prior_path(name: str) -> Path | None:
    """The folder or checkpoint of an installed prior, or None (names come from
    :func:`installed_priors` only, never from a path a person typed)."""
    prior = installed_priors().get(name)
    return prior.path if prior else None


def prior_for(resolution: int) -> InstalledPrior | None:
    """The first installed prior made for ``resolution``, by name, usable or not."""
    for prior in installed_priors().values():
        if prior.resolution == resolution:
            return prior
    return None


def default_prior(resolution: int) -> str:
    """The prior a model of ``resolution`` starts from unless the person chooses otherwise:
    :func:`prior_for` that size when it can be used; "" (from scratch) otherwise."""
    prior = prior_for(resolution)
    return prior.name if prior and not prior.problem else ""


def chosen_prior(choice: str, resolution: int) -> str:
    """The prior name a training job records for the form's or API's ``choice``: ``AUTO`` means
    :func:`default_prior`, "" (or ``NONE``) from scratch, anything else that prior's name."""
    if choice == AUTO:
        return default_prior(resolution)
    return "" if choice == NONE else choice
