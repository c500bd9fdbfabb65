"""How much a person's model, as it trains, draws that person: the measure that chooses which
snapshot a family gets.

Why: a model fine-tuned from the face prior on a few photos does not improve steadily. Its
likeness rises and falls by a tenth or more between snapshots minutes apart (BENCHMARKS.md, "A
family's model from the prior"), so the last snapshot of a run stopped by its time budget is often
not its best. Training therefore measures each snapshot it shows (every sample grid) and keeps
the weights of the best one beside the training state; the model a family generates from is that
best snapshot, while training itself always continues from the latest weights.

The measure is the evaluation's identity figure on fewer samples: dlib's descriptor of each sample
against the centroid of the *training* photos' descriptors (the held-out photos stay untouched, so
the final evaluation remains an honest check), on seeds the evaluation does not draw. A sample
counts when a face is found within :data:`~gan_engine.faces.SAME_PERSON_DISTANCE`; ties go to
the smaller mean distance.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from gan_engine.faces import SAME_PERSON_DISTANCE, FaceTools

#: Seeds of the measured samples: far from the evaluation's (0-63) and the generator pages'.
SEED_BASE = 7_000_000


@dataclass(frozen=True)
class Likeness:
    """One snapshot's measured likeness."""

    step: int
    #: The share of samples with a face of the person (a sample without a face is a miss).
    match_rate: float
    #: The mean distance over the samples with a face; None when none was found.
    mean_distance: float | None

    def key(self) -> tuple[float, float]:
        """Larger is better: the match rate first, then the closer faces."""
        distance = self.mean_distance if self.mean_distance is not None else 2.0
        return (round(self.match_rate, 6), -distance)

    def replaces(self, kept: Likeness | None) -> bool:
        """Whether this (newer) snapshot takes the place of the ``kept`` one: it measures at
        least as well (on a tie the newer weights win, so a run whose samples never show a
        face keeps its last snapshot)."""
        return kept is None or self.key() >= kept.key()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Likeness:
        return cls(
            step=int(values["step"]),
            match_rate=float(values["match_rate"]),
            mean_distance=None
            if values.get("mean_distance") is None
            else float(values["mean_distance"]),
        )


def to_uint8(images: torch.Tensor | list[torch.Tensor]) -> np.ndarray:
    """N x H x W x 3 uint8 from images in [-1, 1] (a batch or a list); also what
    :mod:`gan_engine.evaluate` judges (it lives here so that training can use it without
    importing the evaluation, which imports training)."""
    stack = torch.stack(list(images)) if isinstance(images, list) else images
    return ((stack.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()


class LikenessProbe:
    """Measures snapshots of one person's model against that person's training photos.

    ``descriptors`` are the training photos' dlib descriptors (N x 128); ``text`` the rows of
    caption embeddings the samples cycle through (the training captions, as a family's prompts
    would be); ``count`` samples per measurement (24: about 3 CPU-seconds at 64 px, about 2 % of
    a two-minute interval between sample grids).
    """

    def __init__(
        self,
        descriptors: np.ndarray,
        text: torch.Tensor,
        z_dim: int,
        *,
        count: int = 24,
        tools: FaceTools | None = None,
    ) -> None:
        if len(descriptors) == 0:
            raise ValueError("the likeness needs the training photos' descriptors")
        self.centroid = np.asarray(descriptors, dtype=np.float64).mean(axis=0)
        self.tools = tools or FaceTools()
        generators = [torch.Generator().manual_seed(SEED_BASE + i) for i in range(count)]
        self.z = torch.stack([torch.randn(z_dim, generator=g) for g in generators])
        self.text = text[torch.arange(count) % len(text)].clone()

    @torch.no_grad()
    def measure(self, generator: torch.nn.Module, step: int, device: torch.device) -> Likeness:
        """The likeness of ``generator`` (the EMA copy, in evaluation mode) at ``step``."""
        images = []
        for start in range(0, len(self.z), 16):
            batch = generator(
                self.z[start : start + 16].to(device), self.text[start : start + 16].to(device)
            )
            images.append(batch.float().cpu())
        distances = []
        for crop in to_uint8(torch.cat(images)):
            descriptor = self.tools.describe_crop(crop)
            if descriptor is not None:
                distances.append(float(np.linalg.norm(descriptor - self.centroid)))
        matches = sum(distance < SAME_PERSON_DISTANCE for distance in distances)
        return Likeness(
            step=step,
            match_rate=matches / len(self.z),
            mean_distance=float(np.mean(distances)) if distances else None,
        )
