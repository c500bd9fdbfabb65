"""Make new photos from a trained model: by caption (or none), seeds, truncation; and interpolations.

The same seed and caption always give the same image: each image's noise comes from its own
seeded generator (not from a shared stream), and the EMA generator runs in evaluation mode, so an
image does not depend on what else is in its batch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from gan_engine.checkpoint import CHECKPOINT_NAME, load_checkpoint
from gan_engine.device import resolve_device
from gan_engine.networks import Generator
from gan_engine.outputs import write_image
from gan_engine.prior import is_prior_folder
from gan_engine.provenance import Provenance
from gan_engine.text import CaptionEncoder
from gan_engine.train import TrainConfig


@dataclass
class Model:
    """A trained generator ready for sampling."""

    generator: Generator
    config: dict
    step: int
    device: torch.device
    checkpoint: Path

    @property
    def z_dim(self) -> int:
        return self.generator.config.z_dim


def load_model(checkpoint: str | os.PathLike[str], device: str = "auto") -> Model:
    """Load the EMA generator of a checkpoint (a run folder means its ``checkpoint.pt``): the
    snapshot that measured most like the person while it trained when the run kept one
    (``TrainConfig.keep_best``, :mod:`gan_engine.likeness`), else the last step's."""
    path = Path(checkpoint)
    if path.is_dir() and not is_prior_folder(path):  # a prior's folder is loaded as it is
        path = path / CHECKPOINT_NAME
    target = resolve_device(device)
    state = load_checkpoint(path, map_location=target)
    config = state["config"]
    # The saved config gives later-added architecture fields their defaults (old checkpoints).
    generator = Generator(TrainConfig.from_dict(config).net_config())
    best = state.get("best")
    generator.load_state_dict(best["G_ema"] if best else state["G_ema"])
    generator.to(target).eval().requires_grad_(False)
    step = int(best["likeness"]["step"]) if best else int(state["step"])
    return Model(generator, config, step, target, path)


def seed_noise(seed: int, z_dim: int, truncation: float = 1.0) -> torch.Tensor:
    """The noise vector for ``seed``; truncation ``psi`` < 1 scales it towards the mean face,
    trading variety for fidelity (the BigGAN/StyleGAN truncation trick, applied to ``z``)."""
    if not 0 < truncation <= 1:
        raise ValueError(f"truncation must be in (0, 1], got {truncation}")
    generator = torch.Generator().manual_seed(int(seed))
    return torch.randn(z_dim, generator=generator) * truncation


def noise(model: Model, seeds: Sequence[int], truncation: float = 1.0) -> torch.Tensor:
    """The stacked noise vectors for ``seeds`` (one row per seed, see :func:`seed_noise`)."""
    return torch.stack([seed_noise(seed, model.z_dim, truncation) for seed in seeds])


def encode_captions(
    model: Model, captions: Sequence[str | None], encoder: CaptionEncoder | None
) -> torch.Tensor:
    if all(caption is None for caption in captions):
        return torch.zeros(len(captions), 384)
    encoder = encoder or CaptionEncoder(
        model.config.get("text_model"), cache_dir=model.checkpoint.parent / "text-cache"
    )
    return encoder.encode(list(captions))


@torch.no_grad()
def render(
    model: Model, z: torch.Tensor, text: torch.Tensor, batch: int = 16
) -> list[torch.Tensor]:
    """Run the generator in batches; returns CPU tensors in [-1, 1]."""
    images: list[torch.Tensor] = []
    for start in range(0, len(z), batch):
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=model.device.type == "cuda"):
            out = model.generator(
                z[start : start + batch].to(model.device),
                text[start : start + batch].to(model.device),
            )
        images.extend(out.float().cpu())
    return images


def sample(
    model: Model,
    seeds: Sequence[int],
    captions: Sequence[str | None] | None = None,
    *,
    truncation: float = 1.0,
    batch: int = 16,
    encoder: CaptionEncoder | None = None,
) -> list[torch.Tensor]:
    """One image per seed (with its caption, none by default) as CPU tensors in [-1, 1]: what
    ``generate``, ``evaluate`` and the benchmarks draw, so they all draw the same pictures."""
    seeds = list(seeds)
    captions = [None] * len(seeds) if captions is None else list(captions)
    if len(captions) != len(seeds):
        raise ValueError(f"{len(seeds)} seeds but {len(captions)} captions")
    text = encode_captions(model, captions, encoder)
    return render(model, noise(model, seeds, truncation), text, batch)


def generate(
    checkpoint: str | os.PathLike[str] | Model,
    out_dir: str | os.PathLike[str],
    *,
    caption: str | None = None,
    count: int = 1,
    seeds: Sequence[int] | None = None,
    truncation: float = 1.0,
    batch: int = 16,
    device: str = "auto",
    encoder: CaptionEncoder | None = None,
    progress: Callable[[int, int], None] | None = None,
    provenance: Provenance | None = None,
) -> list[Path]:
    """Write ``count`` images (or one per seed) as PNG files; returns their paths.

    With ``provenance`` every image is watermarked, marked and signed by :func:`write_image`.
    """
    model = checkpoint if isinstance(checkpoint, Model) else load_model(checkpoint, device)
    seeds = list(seeds) if seeds is not None else list(range(count))
    if not seeds:
        raise ValueError("nothing to generate: count must be at least 1")
    images = sample(
        model, seeds, [caption] * len(seeds), truncation=truncation, batch=batch, encoder=encoder
    )
    paths = []
    for index, (seed, image) in enumerate(zip(seeds, images, strict=True)):
        path = write_image(
            image,
            Path(out_dir) / f"seed-{seed:06d}.png",
            kind="generated",
            metadata={  # no caption: it is personal text (outputs.PERSONAL_KEYS)
                "seed": seed,
                "truncation": truncation,
                "model_step": model.step,
            },
            provenance=provenance,
        )
        paths.append(path)
        if progress:
            progress(index + 1, len(seeds))
    return paths


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation: keeps the noise norm typical, so middle frames are not washed out."""
    cos = torch.dot(a, b) / (a.norm() * b.norm())
    omega = torch.arccos(cos.clamp(-1, 1))
    if omega.abs() < 1e-6:
        return torch.lerp(a, b, t)
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


def interpolate(
    checkpoint: str | os.PathLike[str] | Model,
    out_dir: str | os.PathLike[str],
    *,
    seeds: Sequence[int] = (0, 1),
    captions: Sequence[str | None] | None = None,
    frames: int = 16,
    truncation: float = 1.0,
    device: str = "auto",
    encoder: CaptionEncoder | None = None,
) -> list[Path]:
    """Frames ``frame-00000.png`` ... moving through the seeds and/or the captions in order.

    With several seeds and one caption the face changes; with one seed and several captions the
    situation changes and the face stays. Each segment has ``frames`` frames; the last key is
    included once at the end.
    """
    model = checkpoint if isinstance(checkpoint, Model) else load_model(checkpoint, device)
    captions = list(captions) if captions else [None]
    keys = max(len(seeds), len(captions))
    if keys < 2 or frames < 1:
        raise ValueError("interpolation needs at least two seeds or two captions, and frames >= 1")
    noise = [
        seed_noise(seeds[min(i, len(seeds) - 1)], model.z_dim, truncation) for i in range(keys)
    ]
    texts = encode_captions(
        model, [captions[min(i, len(captions) - 1)] for i in range(keys)], encoder
    )
    zs, ts = [], []
    for i in range(keys - 1):
        for f in range(frames):
            t = f / frames
            zs.append(slerp(noise[i], noise[i + 1], t))
            ts.append(torch.lerp(texts[i], texts[i + 1], t))
    zs.append(noise[-1])
    ts.append(texts[-1])
    paths = []
    for index, image in enumerate(render(model, torch.stack(zs), torch.stack(ts))):
        paths.append(
            write_image(
                image,
                Path(out_dir) / f"frame-{index:05d}.png",
                kind="frame",
                metadata={"frame": index, "model_step": model.step},
            )
        )
    return paths
