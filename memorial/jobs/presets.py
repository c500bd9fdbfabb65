"""What the "Train a model" form offers, turned into engine settings (plain data, no torch)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

# Quality presets: resolution and an upper bound on steps; the time budget usually ends sooner.
PRESETS = {
    "quick": {"resolution": 64, "steps": 20_000, "label": _("Quick: 64 px")},
    "standard": {"resolution": 128, "steps": 40_000, "label": _("Standard: 128 px")},
    "high": {"resolution": 256, "steps": 80_000, "label": _("High: 256 px")},
}
# Time budgets in minutes.
BUDGETS = {
    15: _("15 minutes"),
    60: _("1 hour"),
    240: _("4 hours"),
    720: _("12 hours"),
}
MAX_GENERATE = 16

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
        "sample_count",
        "min_photos",
        "max_rollbacks",
        "inject_nan_steps",
    }
)


def train_parameters(preset: str, budget_minutes: int, engine: dict | None = None) -> dict:
    chosen = PRESETS[preset]
    values = {"resolution": chosen["resolution"], "steps": chosen["steps"]}
    overrides = {**settings.JOB_ENGINE_OVERRIDES, **(engine or {})}
    values.update({k: v for k, v in overrides.items() if k in ENGINE_KEYS})
    return {
        "preset": preset,
        "time_budget_seconds": int(budget_minutes) * 60,
        "engine": values,
    }
