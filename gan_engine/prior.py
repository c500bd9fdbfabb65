"""General face priors as they ship: export from a pretraining run, list, verify and load.

A shipped prior is a folder ``<name>/`` holding three files:

* ``weights.pt``: the generator, its EMA copy and the discriminator in fp16, the run's config, its
  step and batch (no optimiser or augmentation state: a model started from a prior starts those
  fresh, see :meth:`gan_engine.train.Trainer.load_prior`);
* ``prior.json``: the manifest: name, resolution, the architecture fields, the weights file's
  SHA-256 and size, the step and images seen;
* ``MODEL_CARD.md``: what data it was trained on and under which terms, the exact command, the CPU
  time and its measured quality. A prior without its card is refused: nobody should start a
  family's model from weights whose origin nobody can read.

Priors are found in the administrator's folder (``MEMORIAL_PRIORS_DIR``) and in the folder that
ships inside this package (``gan_engine/weights/``, overridable with ``GAN_ENGINE_SHIPPED_PRIORS``
for tests); a prior in the administrator's folder with the same name wins.

Listing reads ``prior.json`` only, so web code may call :func:`list_priors` without torch: this
module imports torch inside the functions that load or write weights, never at import time.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gan_engine.errors import CheckpointError

WEIGHTS_NAME = "weights.pt"
MANIFEST_NAME = "prior.json"
CARD_NAME = "MODEL_CARD.md"
#: Version of the shipped layout (weights.pt + prior.json + MODEL_CARD.md).
PRIOR_FORMAT = 1
#: The shipped folder; tests and packagers point GAN_ENGINE_SHIPPED_PRIORS elsewhere.
SHIPPED_ENV = "GAN_ENGINE_SHIPPED_PRIORS"
ADMIN_ENV = "MEMORIAL_PRIORS_DIR"
SHIPPED_DIR = Path(__file__).resolve().parent / "weights"
#: All shipped priors together must stay below this, so that a clone and a wheel stay small.
MAX_SHIPPED_BYTES = 40 * 1024 * 1024
#: Said after every refusal: what a person can do about it.
WHAT_TO_DO = (
    "train from scratch (no prior), or reinstall Memorial / put back the file "
    "(an administrator's own prior: export it again with python -m gan_engine export-prior)"
)
#: The fields that define a model's networks (gan_engine.train.ARCHITECTURE_FIELDS is this tuple;
#: it lives here, with no torch, so that listing priors never loads torch).
ARCHITECTURE = (
    "resolution",
    "z_dim",
    "cond_dim",
    "width",
    "text_model",
    "padding",
    "caption_bias",
)
#: Training settings a prior recommends for a model started from it (``prior.json``'s optional
#: ``fine_tune``): measured with the prior (its card says how) and applied by
#: :func:`adopt_architecture` like its networks. Few-shot fine-tuning with every layer of D
#: training left a first likeness after 300 CPU-seconds and then lost it (BENCHMARKS.md). Each
#: field with the type TrainConfig needs: JSON does not tell 3 from 3.0, and a count of layers
#: must be a whole number.
FINE_TUNE_FIELDS: dict[str, type] = {"lr_g": float, "lr_d": float, "freeze_d": int}
#: Options the engine no longer has: field -> (the one value it now trains and draws with, the
#: flag that set it). A checkpoint or prior saved with that value still loads; one trained with
#: another is refused by name. Measured and not kept: BENCHMARKS.md, "Engine quality".
REMOVED_OPTIONS: dict[str, tuple[Any, str]] = {
    "noise": ("everywhere", "--noise"),
    "upsample": ("nearest", "--upsample"),
    "mbstd_group": (0, "--mbstd"),
    "mode_seeking": (0.0, "--mode-seeking"),
}


def removed_option(config: Mapping[str, Any]) -> str | None:
    """The removed option (see :data:`REMOVED_OPTIONS`) a saved config used at a value the engine
    can no longer train or draw with, as its flag and value (``"--noise seed"``), or None."""
    for field, (only, flag) in REMOVED_OPTIONS.items():
        if field in config and config[field] != only:
            value = config[field]
            return f"{flag} {value:g}" if isinstance(value, float) else f"{flag} {value}"
    return None


def no_longer_supported(what: str, option: str) -> str:
    """The refusal of a checkpoint or prior trained with a removed option."""
    return f"{what} was trained with {option}, which Memorial no longer supports; train a new model"


class PriorError(CheckpointError):
    """A prior cannot be used: missing, truncated, changed, of another resolution, without card."""


@dataclass(frozen=True)
class PriorInfo:
    """One prior as its manifest describes it (read without loading any weights)."""

    name: str
    folder: Path
    resolution: int
    architecture: dict[str, Any]
    sha256: str
    size: int
    shipped: bool  # False: from the administrator's folder
    #: The training settings it recommends for a model started from it (FINE_TUNE_FIELDS).
    fine_tune: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: How far its pretraining went (None where a hand-written manifest does not say): a run
    #: continuing it records them (:func:`lineage`).
    step: int | None = None
    images_seen: int | None = None

    @property
    def weights(self) -> Path:
        return self.folder / WEIGHTS_NAME


# ----- where priors are -------------------------------------------------------------------------
def shipped_dir() -> Path:
    """The folder of priors that ship with the package (``GAN_ENGINE_SHIPPED_PRIORS`` overrides)."""
    return Path(os.environ.get(SHIPPED_ENV) or SHIPPED_DIR)


def admin_dir() -> Path | None:
    """The administrator's folder of priors (``MEMORIAL_PRIORS_DIR``), if set."""
    value = os.environ.get(ADMIN_ENV)
    return Path(value) if value else None


def read_manifest(folder: str | os.PathLike[str], *, shipped: bool = False) -> PriorInfo:
    """The manifest of the prior in ``folder``; a missing or unreadable one is a PriorError."""
    root = Path(folder)
    path = root / MANIFEST_NAME
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise PriorError(f"the prior's manifest {path} is missing; {WHAT_TO_DO}") from error
    except (OSError, ValueError) as error:
        raise PriorError(
            f"the prior's manifest {path} cannot be read ({error}); {WHAT_TO_DO}"
        ) from error
    try:
        return PriorInfo(
            name=str(values["name"]),
            folder=root,
            resolution=int(values["resolution"]),
            architecture=dict(values["architecture"]),
            sha256=str(values["sha256"]),
            size=int(values["size"]),
            shipped=shipped,
            fine_tune=_fine_tune(dict(values.get("fine_tune") or {})),
            step=_whole_or_none(values.get("step")),
            images_seen=_whole_or_none(values.get("images_seen")),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise PriorError(
            f"the prior's manifest {path} lacks a field or has a wrong one ({error}); {WHAT_TO_DO}"
        ) from error


def _whole_or_none(value: Any) -> int | None:
    """An optional count of a manifest: None where it is missing or not a number (only the
    lineage of a continued prior uses it; the prior itself stays usable)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _fine_tune(values: dict[str, Any]) -> dict[str, float | int]:
    """The known fine-tuning fields of a manifest, each as its TrainConfig type (ValueError for a
    fractional layer count rather than silently rounding it)."""
    settings: dict[str, float | int] = {}
    for key, value in values.items():
        if (kind := FINE_TUNE_FIELDS.get(key)) is None:
            continue
        if kind is int and float(value) != int(float(value)):
            raise ValueError(f"fine_tune {key} must be a whole number, not {value}")
        settings[key] = kind(float(value)) if kind is int else kind(value)
    return settings


def list_priors(
    shipped: str | os.PathLike[str] | None = None, admin: str | os.PathLike[str] | None = None
) -> dict[str, PriorInfo]:
    """Every prior with a readable manifest, by name: shipped ones, then the administrator's,
    which replace shipped ones of the same name. Reads ``prior.json`` files only (no torch)."""
    found: dict[str, PriorInfo] = {}
    roots = [(Path(shipped) if shipped else shipped_dir(), True)]
    admin_root = Path(admin) if admin else admin_dir()
    if admin_root is not None:
        roots.append((admin_root, False))
    for root, is_shipped in roots:
        if not root.is_dir():
            continue
        for manifest in sorted(root.glob(f"*/{MANIFEST_NAME}")):
            try:
                info = read_manifest(manifest.parent, shipped=is_shipped)
            except PriorError:
                continue  # unusable: loading it by path says why
            found[manifest.parent.name] = info
    return found


def default_prior(resolution: int, priors: dict[str, PriorInfo]) -> PriorInfo | None:
    """The prior a model of ``resolution`` starts from by default: the first by name (shipped or
    the administrator's replacement) made for that resolution, or None."""
    for name in sorted(priors):
        if priors[name].resolution == resolution:
            return priors[name]
    return None


# ----- loading ----------------------------------------------------------------------------------
def problem(info: PriorInfo) -> str | None:
    """What makes a listed prior unusable, found without reading its weights (so a page may ask):
    no model card, no weights, weights of the wrong size. None when these are in order; the
    checksum is checked when the weights are loaded (:func:`verify`)."""
    if option := removed_option(info.architecture):
        return no_longer_supported(f"the prior {info.folder}", option)
    card = info.folder / CARD_NAME
    if not card.is_file():
        return (
            f"the prior's model card {card} is missing (it says what data the prior learned from "
            f"and under which terms); {WHAT_TO_DO}"
        )
    try:
        size = info.weights.stat().st_size
    except FileNotFoundError:
        return f"the prior's weights {info.weights} are missing; {WHAT_TO_DO}"
    except OSError as error:
        return f"the prior's weights {info.weights} cannot be read ({error}); {WHAT_TO_DO}"
    return _size_problem(info, size)


def _size_problem(info: PriorInfo, size: int) -> str | None:
    if size == info.size:
        return None
    return (
        f"the prior's weights {info.weights} are truncated or incomplete ({size} bytes, "
        f"{info.size} expected); {WHAT_TO_DO}"
    )


def verify(
    folder: str | os.PathLike[str], *, resolution: int | None = None
) -> tuple[PriorInfo, bytes]:
    """Check a prior folder before any weight is used: manifest, model card, weights present,
    complete and unchanged (SHA-256), the resolution wanted. Returns the manifest and the
    verified bytes (loading those, not a second read, so nothing can change in between)."""
    info = read_manifest(folder)
    if found := problem(info):
        raise PriorError(found)
    if resolution is not None and info.resolution != resolution:
        raise PriorError(
            f"the prior {info.folder} is for {info.resolution} px pictures, not {resolution} px; "
            f"choose a prior made for {resolution} px or train from scratch"
        )
    try:
        data = info.weights.read_bytes()
    except OSError as error:
        raise PriorError(
            f"the prior's weights {info.weights} cannot be read ({error}); {WHAT_TO_DO}"
        ) from error
    if found := _size_problem(info, len(data)):
        raise PriorError(found)
    if hashlib.sha256(data).hexdigest() != info.sha256:
        raise PriorError(
            f"the prior's weights {info.weights} have been changed or damaged (their SHA-256 does "
            f"not match {info.folder / MANIFEST_NAME}); {WHAT_TO_DO}"
        )
    return info, data


def load_prior_state(
    folder: str | os.PathLike[str], *, resolution: int | None = None, map_location: str = "cpu"
) -> dict[str, Any]:
    """A verified prior as a checkpoint-shaped dict (``config``, ``step``, ``resolution``, fp32
    ``G``, ``G_ema``, ``D``) for :meth:`gan_engine.train.Trainer.load_prior`."""
    import torch

    from gan_engine import CHECKPOINT_FORMAT

    info, data = verify(folder, resolution=resolution)
    try:
        state = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises several types for unreadable archives
        raise PriorError(f"the prior's weights {info.weights} cannot be loaded: {error}") from error
    if state.get("format") != PRIOR_FORMAT or state.get("checkpoint_format") != CHECKPOINT_FORMAT:
        raise PriorError(
            f"the prior {info.weights} was written for another engine version (format "
            f"{state.get('format')!r}, checkpoint format {state.get('checkpoint_format')!r}); "
            f"{WHAT_TO_DO}"
        )
    saved = state["config"]
    if option := removed_option(saved):
        raise PriorError(no_longer_supported(f"the prior {info.folder}", option))
    for field in ARCHITECTURE:
        if field in info.architecture and saved.get(field) != info.architecture[field]:
            raise PriorError(
                f"the prior {info.folder}: {MANIFEST_NAME} says {field}="
                f"{info.architecture[field]!r}, its weights were trained with "
                f"{field}={saved.get(field)!r}; {WHAT_TO_DO}"
            )
    return {
        "format": CHECKPOINT_FORMAT,
        "resolution": state["resolution"],
        "config": saved,
        "step": state["step"],
        "batch": state["batch"],
        **{key: _as_float32(state[key]) for key in ("G", "G_ema", "D")},
    }


def adopt_architecture(config: Any, folder: str | os.PathLike[str]) -> Any:
    """``config`` (a TrainConfig) with the prior's architecture fields, its recommended
    fine-tuning settings (:data:`FINE_TUNE_FIELDS`) and ``init`` set to it: the prior defines the
    networks of a model started from it (for example ``caption_bias=False``) and how fast it may
    move away from it. Reads the manifest only; the weights are verified when training loads them."""
    info = read_manifest(folder)
    if option := removed_option(info.architecture):
        raise PriorError(no_longer_supported(f"the prior {info.folder}", option))
    if info.resolution != config.resolution:
        raise PriorError(
            f"the prior {info.folder} is for {info.resolution} px pictures, not "
            f"{config.resolution} px; choose a prior made for {config.resolution} px or train "
            "from scratch"
        )
    known = {f.name for f in dataclasses.fields(config)}
    fields = {k: v for k, v in info.architecture.items() if k in known and k != "resolution"}
    fields |= {k: v for k, v in info.fine_tune.items() if k in known}
    return dataclasses.replace(config, **fields, init=str(info.folder))


def is_prior_folder(path: str | os.PathLike[str]) -> bool:
    """True for a shipped-style prior folder (it holds a manifest), not a run's checkpoint."""
    return (Path(path) / MANIFEST_NAME).is_file()


def _as_float32(weights: dict[str, Any]) -> dict[str, Any]:
    return {k: v.float() if v.is_floating_point() else v for k, v in weights.items()}


def _as_float16(weights: dict[str, Any]) -> dict[str, Any]:
    return {k: v.half() if v.is_floating_point() else v for k, v in weights.items()}


# ----- export -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CardFacts:
    """What the model card says beyond the checkpoint's own facts."""

    data_note: str = ""
    command: str = ""
    cpu_seconds: float | None = None
    metrics: dict[str, Any] | None = None


def export_prior(
    run: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    name: str | None = None,
    facts: CardFacts = CardFacts(),
) -> Path:
    """Write the shipped form of a pretraining run (``run``: its folder or checkpoint file) to
    ``out/`` and return it. ``out`` must not exist yet or be empty: nothing is overwritten; the
    folder appears complete or not at all (written beside it, then renamed)."""
    import torch

    from gan_engine.checkpoint import load_checkpoint

    target = Path(out)
    if target.exists() and any(target.iterdir()):
        raise PriorError(
            f"{target} already holds files; export to a new folder (nothing is overwritten)"
        )
    state = load_checkpoint(run)
    config = state["config"]
    weights = {
        "format": PRIOR_FORMAT,
        "checkpoint_format": state["format"],
        "resolution": state["resolution"],
        "config": config,
        "step": int(state["step"]),
        "batch": int(state["batch"]),
        **{key: _as_float16(state[key]) for key in ("G", "G_ema", "D")},
    }
    buffer = io.BytesIO()
    torch.save(weights, buffer)
    data = buffer.getvalue()
    if len(data) > MAX_SHIPPED_BYTES:
        raise PriorError(
            f"the exported weights take {len(data) / 2**20:.1f} MiB; shipped priors must stay "
            f"under {MAX_SHIPPED_BYTES / 2**20:.0f} MiB in all (train a narrower prior)"
        )
    manifest = {
        "name": name or target.name,
        "format": PRIOR_FORMAT,
        "resolution": int(state["resolution"]),
        "architecture": {field: config.get(field) for field in ARCHITECTURE if field in config},
        "weights": WEIGHTS_NAME,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "step": int(state["step"]),
        "batch": int(state["batch"]),
        "images_seen": int(state["step"]) * int(state["batch"]),
        "role": config.get("role", "person"),
    }
    earlier = state.get("started_from") or lineage(config.get("init"))  # older runs: init's
    if earlier is not None:
        manifest["continued_from"] = earlier
        manifest["images_seen"] += earlier["images_seen"]
    _write_folder(target, data, manifest, model_card(manifest, config, facts))
    return target


def lineage(init: str | os.PathLike[str] | None) -> dict[str, Any] | None:
    """The prior folder a run starts from (``--init PRIOR``), as its manifest says (name, step,
    images seen, checksum), so that an export of a continued prior counts every image its weights
    have seen, not only this run's. None for a run's checkpoint or a hand-written manifest."""
    if not init or not is_prior_folder(init):
        return None
    earlier = read_manifest(init)
    if earlier.step is None or earlier.images_seen is None:  # hand-written: this run counts alone
        return None
    return {
        "name": earlier.name,
        "step": earlier.step,
        "images_seen": earlier.images_seen,
        "sha256": earlier.sha256,
    }


def _write_folder(target: Path, data: bytes, manifest: dict[str, Any], card: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        (staging / WEIGHTS_NAME).write_bytes(data)
        (staging / MANIFEST_NAME).write_text(
            json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
        )
        (staging / CARD_NAME).write_text(card, encoding="utf-8")
        if target.exists():
            target.rmdir()  # empty (checked above)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def model_card(manifest: dict[str, Any], config: dict[str, Any], facts: CardFacts) -> str:
    """The model card's Markdown: data and terms, command, CPU time, measured quality, facts."""
    unknown = "not recorded (pass it to export-prior)"
    cpu = (
        f"{facts.cpu_seconds:.0f} CPU-seconds ({facts.cpu_seconds / 3600:.1f} CPU-hours)"
        if facts.cpu_seconds is not None
        else unknown
    )
    architecture = "\n".join(f"| {k} | {v!r} |" for k, v in manifest["architecture"].items())
    metrics = (
        "\n".join(f"| {k} | {_number(v)} |" for k, v in sorted(facts.metrics.items()))
        if facts.metrics
        else ""
    )
    quality = (
        f"| measure | value |\n|---|---|\n{metrics}" if metrics else f"Measured quality: {unknown}."
    )
    return f"""# Model card: {manifest["name"]}

A general face prior for gan_engine: a model of faces in general, trained on photos of many
people, that a family's model starts from so that it only has to learn their person.

## Data and its terms

{facts.data_note or unknown}

## How it was made

Command:

```sh
{facts.command or unknown}
```

CPU time: {cpu}.
Steps: {_steps(manifest)}.
Exported on {datetime.date.today().isoformat()}.

## Architecture

| field | value |
|---|---|
{architecture}

## Measured quality

{quality}

## Files

`{WEIGHTS_NAME}`: the generator, its EMA copy and the discriminator in fp16 (no optimiser
state), {manifest["size"]} bytes, SHA-256 `{manifest["sha256"]}`, checked on every load.
"""


def _steps(manifest: dict[str, Any]) -> str:
    own = f"{manifest['step']} at batch {manifest['batch']}"
    earlier = manifest.get("continued_from")
    if earlier is None:
        return f"{own} ({manifest['images_seen']} images seen)"
    return (
        f"{own}, continuing {earlier['name']} (step {earlier['step']}, {earlier['images_seen']} "
        f"images, SHA-256 {earlier['sha256'][:12]}…): {manifest['images_seen']} images seen in all"
    )


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
