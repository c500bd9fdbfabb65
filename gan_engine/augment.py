"""Differentiable augmentation of real and generated images before the discriminator, with ADA.

With a few dozen photos the discriminator memorises the training set within a few hundred steps
and its gradients stop teaching the generator anything. Augmenting *both* real and generated
images with the same random, differentiable transforms (Zhao et al. DiffAugment; Karras et al. ADA)
lets the discriminator see many variants while the generator still learns the un-augmented
distribution — provided the probability ``p`` stays below the point where the transforms "leak"
into the generated images. ADA therefore adapts ``p`` from the overfitting measure
``r_t = E[sign(D(real))]``: above the target, the discriminator is too sure of the reals, so ``p``
rises; below it, ``p`` falls.

The transforms are mild on purpose (rotation ±15°, translation ±1/8, scale ±20 %): the crops are
aligned faces, and mild transforms leak less at high ``p``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

OPS = ("flip", "translation", "scale", "rotation", "color", "cutout")


def _chance(batch: int, p: float, device: torch.device) -> torch.Tensor:
    """Per-sample Bernoulli(p) as a float mask of shape (batch,)."""
    return (torch.rand(batch, device=device) < p).float()


class Augment(torch.nn.Module):
    """Apply each enabled transform to each sample independently with probability ``p``.

    Differentiable with respect to the images (geometric transforms resample with
    ``grid_sample``; colour and cutout are arithmetic), and exactly the identity at ``p = 0``.
    """

    def __init__(self, ops: Sequence[str] = OPS) -> None:
        super().__init__()
        unknown = set(ops) - set(OPS)
        if unknown:
            raise ValueError(f"unknown augmentations {sorted(unknown)}; choose from {OPS}")
        self.ops = tuple(ops)

    def forward(self, images: torch.Tensor, p: float) -> torch.Tensor:
        if p <= 0 or not self.ops:
            return images
        x = self._geometric(images, p)
        if "color" in self.ops:
            x = self._colour(x, p)
        if "cutout" in self.ops:
            x = self._cutout(x, p)
        return x

    def _geometric(self, x: torch.Tensor, p: float) -> torch.Tensor:
        batch, device = x.shape[0], x.device
        eye = torch.eye(2, device=device).expand(batch, 2, 2)
        matrix = eye.clone()
        shift = torch.zeros(batch, 2, device=device)
        applied = torch.zeros(batch, device=device)
        if "flip" in self.ops:
            m = _chance(batch, p, device) * (torch.rand(batch, device=device) < 0.5).float()
            matrix[:, 0, 0] = matrix[:, 0, 0] * (1 - 2 * m)
            applied = torch.maximum(applied, m)
        if "scale" in self.ops:
            m = _chance(batch, p, device)
            factor = torch.exp2(torch.randn(batch, device=device) * 0.2 * m)
            matrix = matrix * factor[:, None, None]
            applied = torch.maximum(applied, m)
        if "rotation" in self.ops:
            m = _chance(batch, p, device)
            angle = (torch.rand(batch, device=device) * 2 - 1) * (math.pi / 12) * m
            cos, sin = torch.cos(angle), torch.sin(angle)
            rotation = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
            matrix = rotation @ matrix
            applied = torch.maximum(applied, m)
        if "translation" in self.ops:
            m = _chance(batch, p, device)
            # ±1/8 of the image = ±0.25 in grid_sample's [-1, 1] coordinates.
            shift = (torch.rand(batch, 2, device=device) * 2 - 1) * 0.25 * m[:, None]
            applied = torch.maximum(applied, m)
        if not bool(applied.any()):
            return x
        theta = torch.cat([matrix, shift[:, :, None]], dim=2).to(x.dtype)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        moved = F.grid_sample(
            x, grid, mode="bilinear", padding_mode="reflection", align_corners=False
        )
        # Untouched samples stay bit-exact instead of going through an identity resampling.
        keep = applied.view(batch, 1, 1, 1).to(x.dtype)
        return moved * keep + x * (1 - keep)

    def _colour(self, x: torch.Tensor, p: float) -> torch.Tensor:
        batch, device = x.shape[0], x.device
        shape = (batch, 1, 1, 1)
        m = _chance(batch, p, device).view(shape)
        x = x + torch.randn(shape, device=device) * 0.2 * m  # brightness
        m = _chance(batch, p, device).view(shape)
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = (x - mean) * torch.exp2(torch.randn(shape, device=device) * 0.5 * m) + mean  # contrast
        m = _chance(batch, p, device).view(shape)
        grey = x.mean(dim=1, keepdim=True)
        return (x - grey) * torch.exp2(
            torch.randn(shape, device=device) * 1.0 * m
        ) + grey  # saturation

    def _cutout(self, x: torch.Tensor, p: float) -> torch.Tensor:
        batch, _, height, width = x.shape
        device = x.device
        m = _chance(batch, p, device)
        if not bool(m.any()):
            return x
        side = 0.25 + torch.rand(batch, device=device) * 0.25  # a quarter to half the image
        centre = torch.rand(batch, 2, device=device)
        ys = (torch.arange(height, device=device).float() + 0.5) / height
        xs = (torch.arange(width, device=device).float() + 0.5) / width
        inside_y = (ys[None, :] - centre[:, 0:1]).abs() < side[:, None] / 2
        inside_x = (xs[None, :] - centre[:, 1:2]).abs() < side[:, None] / 2
        hole = (inside_y[:, :, None] & inside_x[:, None, :]).float() * m[:, None, None]
        return x * (1 - hole[:, None].to(x.dtype))


class AdaController:
    """Adaptive augmentation probability from ``r_t = E[sign(D(real))]`` (Karras et al. 2020).

    Every ``interval`` steps, ``p`` moves by ``batch * interval / speed_images`` towards more
    augmentation if ``r_t`` is above ``target`` and towards less otherwise, so that ``p`` can go
    from 0 to 1 in ``speed_images`` real images. Its whole state is checkpointed: a resumed run
    continues with the same ``p`` (a reset ``p`` was a common complaint about StyleGAN2-ADA resumes).
    """

    def __init__(
        self,
        p: float = 0.0,
        target: float = 0.6,
        interval: int = 4,
        speed_images: int = 20_000,
        p_max: float = 0.8,
        adaptive: bool = True,
    ) -> None:
        self.p = float(p)
        self.target = target
        self.interval = interval
        self.speed_images = speed_images
        self.p_max = p_max
        self.adaptive = adaptive
        self.sign_sum = 0.0
        self.count = 0
        self.steps = 0
        self.last_rt: float | None = None

    def observe(self, real_logits: torch.Tensor) -> None:
        """Accumulate the signs of the discriminator's outputs on (augmented) real images."""
        self.sign_sum += float(torch.sign(real_logits.detach().float()).sum())
        self.count += real_logits.numel()

    def step(self, batch_size: int) -> None:
        """Called once per training step; adjusts ``p`` every ``interval`` steps."""
        self.steps += 1
        if not self.adaptive or self.steps % self.interval or self.count == 0:
            return
        self.last_rt = self.sign_sum / self.count
        adjust = math.copysign(
            batch_size * self.interval / self.speed_images, self.last_rt - self.target
        )
        self.p = min(self.p_max, max(0.0, self.p + adjust))
        self.sign_sum, self.count = 0.0, 0

    def state_dict(self) -> dict[str, Any]:
        return {
            "p": self.p,
            "target": self.target,
            "interval": self.interval,
            "speed_images": self.speed_images,
            "p_max": self.p_max,
            "adaptive": self.adaptive,
            "sign_sum": self.sign_sum,
            "count": self.count,
            "steps": self.steps,
            "last_rt": self.last_rt,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            setattr(self, key, value)
