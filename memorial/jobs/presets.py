"""What the "Train a model" form offers, turned into engine settings (plain data, no torch)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _

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
        # After training, an evaluation report on the held-out photos (tasks._queue_evaluation).
        "evaluation": {"samples": settings.JOB_EVALUATION_SAMPLES},
    }
    if prior:
        params["prior"] = prior
    return params


def priors() -> list[str]:
    """Installed general face priors, by name: ``<PRIORS_DIR>/<name>/checkpoint.pt`` (the folder
    ``python -m gan_engine pretrain --out`` writes) or ``<PRIORS_DIR>/<name>.pt``."""
    root = Path(settings.PRIORS_DIR)
    if not root.is_dir():
        return []
    found = {p.parent.name for p in root.glob(f"*/{CHECKPOINT_FILE}")}
    found |= {p.stem for p in root.glob("*.pt") if p.is_file()}
    return sorted(found)


def prior_path(name: str) -> Path | None:
    """The checkpoint of an installed prior, or None (names come from :func:`priors` only)."""
    if name not in priors():
        return None
    root = Path(settings.PRIORS_DIR)
    folder = root / name / CHECKPOINT_FILE
    return folder if folder.is_file() else root / f"{name}.pt"
