"""Measure a trained model against the person's real photos; every figure comes with its ceiling.

Metrics (all on aligned crops at the model's resolution):

* **held-out SSIM/PSNR**: for each held-out real photo, its best-matching generated sample (by
  SSIM). **training SSIM/PSNR** is the same against the training photos; a training figure well
  above the held-out one means the model copies its training photos (memorisation).
* **identity**: dlib's 128-d descriptor of each sample (crops upscaled to 256 px so dlib finds the
  face) against the centroid of the held-out photos' descriptors; the match rate is the share of
  samples with a detected face closer than 0.6. **detection rate**: share of samples with a face.
* **diversity**: mean pairwise descriptor distance and mean pairwise SSIM among samples, and
  **shape similarity**: the mean correlation between pairs of samples in grey at 16 px, each
  image standardised first, so brightness, contrast and tint cannot count as variety (copies of
  one face in different exposures score near 1; real photos of one person about 0.2). The other
  two figures count exposure changes alone as variety.
* **KID** in descriptor space (cubic polynomial kernel, unbiased): with tens of samples its
  variance is large — read it as a trend between runs, not as an absolute score.
* **ceiling**: the same identity, detection and diversity figures for the held-out real crops at
  the same resolution (identity against the training photos' centroid), so that every generated
  figure is read against what real photos of that person score (shape similarity: over all
  the real crops, since a held-out set of a few photos gives a noisy mean).
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from gan_engine.data import load_faces
from gan_engine.errors import DataError
from gan_engine.faces import SAME_PERSON_DISTANCE, FaceTools
from gan_engine.generate import Model, load_model, sample
from gan_engine.likeness import to_uint8
from gan_engine.text import CaptionEncoder


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    return float(structural_similarity(a, b, channel_axis=2, data_range=255, win_size=7))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(peak_signal_noise_ratio(a, b, data_range=255))


def nearest(reals: np.ndarray, samples: np.ndarray) -> list[tuple[int, float, float]]:
    """For each real photo: (index of its most similar sample by SSIM, that SSIM, that PSNR)."""
    matches = []
    for real in reals:
        scores = [ssim(real, sample) for sample in samples]
        index = int(np.argmax(scores))
        matches.append((index, scores[index], min(psnr(real, samples[index]), 100.0)))
    return matches


def best_matches(
    reals: np.ndarray, samples: np.ndarray, matches: list[tuple[int, float, float]] | None = None
) -> dict[str, float]:
    """Mean over real photos of the SSIM (and that match's PSNR) of their most similar sample."""
    matches = matches if matches is not None else nearest(reals, samples)
    return {
        "ssim": float(np.mean([m[1] for m in matches])),
        "psnr": float(np.mean([m[2] for m in matches])),
    }


def pairwise_mean(items: list[Any], metric: Any, limit: int = 500) -> float | None:
    pairs = list(itertools.combinations(range(len(items)), 2))[:limit]
    if not pairs:
        return None
    return float(np.mean([metric(items[i], items[j]) for i, j in pairs]))


#: Side of the grey thumbnails that shape similarity compares: pose and expression, not texture.
SHAPE_SIZE = 16


def structure(images: torch.Tensor, size: int = SHAPE_SIZE) -> torch.Tensor:
    """Grey, ``size`` px, zero mean and unit variance per image: shape without colour."""
    grey = images.float().mean(dim=1, keepdim=True)
    small = F.adaptive_avg_pool2d(grey, size)
    flat = small.flatten(1)
    return (flat - flat.mean(dim=1, keepdim=True)) / (flat.std(dim=1, keepdim=True) + 1e-4)


def shape_similarity(images: np.ndarray) -> float | None:
    """Mean Pearson correlation between pairs of images (N x H x W x 3, uint8) of their
    :func:`structure` at ``SHAPE_SIZE`` px: 1 when all share one shape whatever
    their exposure, near 0 for unrelated pictures (a flat image correlates with nothing)."""
    n = len(images)
    if n < 2:
        return None
    shapes = structure(torch.from_numpy(images).permute(0, 3, 1, 2).double(), SHAPE_SIZE)
    corr = shapes @ shapes.T / (shapes.shape[1] - 1)  # unit variance per row: correlations
    return float((corr.sum() - corr.trace()) / (n * (n - 1)))


def kid(x: np.ndarray, y: np.ndarray) -> float | None:
    """Unbiased squared MMD with the kernel ``(x.y / d + 1)^3`` (Bińkowski et al. 2018)."""
    if len(x) < 2 or len(y) < 2:
        return None
    d = x.shape[1]
    kxx, kyy, kxy = ((x @ x.T / d + 1) ** 3), ((y @ y.T / d + 1) ** 3), ((x @ y.T / d + 1) ** 3)
    m, n = len(x), len(y)
    return float(
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
        - 2 * kxy.mean()
    )


def identity(crops: np.ndarray, reference: np.ndarray, tools: FaceTools) -> dict[str, Any]:
    """Detection rate, identity match rate, mean distance and descriptor diversity of crops."""
    descriptors = [tools.describe_crop(crop) for crop in crops]
    found = [d for d in descriptors if d is not None]
    distances = [float(np.linalg.norm(d - reference)) for d in found]
    return {
        "count": len(crops),
        "detection_rate": len(found) / len(crops) if len(crops) else 0.0,
        "identity_match_rate": sum(d < SAME_PERSON_DISTANCE for d in distances) / len(crops)
        if len(crops)
        else 0.0,
        "mean_distance": float(np.mean(distances)) if distances else None,
        "diversity_descriptor": pairwise_mean(found, lambda a, b: float(np.linalg.norm(a - b))),
        "_descriptors": np.array(found, dtype=np.float64).reshape(-1, 128),
    }


def evaluate(
    checkpoint: str | os.PathLike[str] | Model,
    data_dir: str | os.PathLike[str],
    *,
    samples: int = 64,
    seed: int = 0,
    truncation: float = 1.0,
    device: str = "auto",
    tools: FaceTools | None = None,
    encoder: CaptionEncoder | None = None,
    out: str | os.PathLike[str] | None = None,
    html: str | os.PathLike[str] | None = None,
    pictures: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """All metrics as a JSON-ready dict (also written to ``out`` when given), and with ``html``
    a self-contained HTML report (see :mod:`gan_engine.report`). With ``pictures`` (a folder),
    the report's pictures are also written as PNG files for a web page to show beside the
    figures; their names are in ``report["pictures"]``."""
    model = checkpoint if isinstance(checkpoint, Model) else load_model(checkpoint, device)
    resolution = model.generator.config.resolution
    tools = tools or FaceTools()
    train = load_faces(data_dir, resolution, "train")
    try:
        heldout = load_faces(data_dir, resolution, "heldout")
    except DataError:
        heldout = None
    notes = []
    if heldout is None:
        notes.append(
            "no held-out photos (fewer than 5 photos): figures are against the training photos only"
        )
    reference_set = heldout or train
    captions = [c for c in reference_set.captions] or [None]
    cycle = [captions[i % len(captions)] for i in range(samples)]
    seeds = range(seed, seed + samples)
    generated = to_uint8(sample(model, seeds, cycle, truncation=truncation, encoder=encoder))
    real_train = to_uint8(train.images)
    real_held = to_uint8(reference_set.images)

    person = reference_set.descriptors.mean(axis=0)
    sample_identity = identity(generated, person, tools)
    ceiling_identity = (
        identity(real_held, train.descriptors.mean(axis=0), tools) if heldout else None
    )
    real_descriptors = (
        np.concatenate([train.descriptors, heldout.descriptors]) if heldout else train.descriptors
    )

    held_matches = nearest(real_held, generated)
    report: dict[str, Any] = {
        "checkpoint": str(model.checkpoint),
        "model_step": model.step,
        "resolution": resolution,
        "samples": samples,
        "seed": seed,
        "truncation": truncation,
        "photos": {"train": len(train.ids), "heldout": len(heldout.ids) if heldout else 0},
        "heldout_best": best_matches(real_held, generated, held_matches),
        "train_best": best_matches(real_train, generated),
        "sample_nearest_train_ssim": float(
            np.mean([max(ssim(s, r) for r in real_train) for s in generated])
        ),
        "identity": {k: v for k, v in sample_identity.items() if not k.startswith("_")},
        "diversity_ssim": pairwise_mean(list(generated), ssim),
        "shape_similarity": shape_similarity(generated),
        "kid_descriptor": kid(sample_identity["_descriptors"], real_descriptors.astype(np.float64)),
        "kid_caveat": "unbiased KID on a few dozen descriptors has a large variance; compare runs, not absolutes",
        "ceiling": None,
        "notes": notes,
    }
    if heldout and ceiling_identity is not None:
        report["ceiling"] = {
            "train_best_vs_heldout": best_matches(real_held, real_train),
            "identity": {k: v for k, v in ceiling_identity.items() if not k.startswith("_")},
            "diversity_ssim": pairwise_mean(list(real_held), ssim),
            # All the real crops: held-out sets of 3-9 photos give a noisy mean.
            "shape_similarity": shape_similarity(np.concatenate([real_train, real_held])),
        }
    if pictures is not None:
        from gan_engine.report import write_pictures

        report["pictures"] = write_pictures(real_held, generated, held_matches, pictures)
    if html is not None:
        from gan_engine.report import write_html

        write_html(report, real_held, generated, held_matches, html)
    if out is not None:
        target = Path(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report
