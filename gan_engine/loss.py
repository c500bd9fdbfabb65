"""Adversarial losses and regularisers.

Default: the **hinge** loss (Lim & Ye 2017; used by SNGAN, BigGAN and FastGAN) with a spectrally
normalised discriminator, plus FastGAN's **reconstruction** loss on real images, and no R1.
Why: on 20-60 images the non-saturating loss lets D's logits on reals grow without bound once it
starts memorising; the hinge stops pushing a sample once it is classified with margin 1, which
keeps D's outputs bounded and gives ADA's ``sign(D(real))`` measure a stable scale. Spectral
normalisation already bounds D's Lipschitz constant, so R1 (which costs a second backward pass,
≈ +40 % step time on the CPU) is optional (``r1_gamma > 0``); the non-saturating loss is available
(``loss = "nsgan"``). Hinge and no R1 because the non-saturating loss lost likeness and R1 cost
images for no gain at the quality benchmark's budget (BENCHMARKS.md, "Engine quality").
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

LossKind = Literal["hinge", "nsgan"]


def discriminator_loss(real: torch.Tensor, fake: torch.Tensor, kind: LossKind) -> torch.Tensor:
    """D's loss on real and generated logits."""
    if kind == "hinge":
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    if kind == "nsgan":
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    raise ValueError(f"unknown loss {kind!r}; use 'hinge' or 'nsgan'")


def generator_loss(fake: torch.Tensor, kind: LossKind) -> torch.Tensor:
    """G's loss on the logits of its images."""
    if kind == "hinge":
        return -fake.mean()
    if kind == "nsgan":
        return F.softplus(-fake).mean()
    raise ValueError(f"unknown loss {kind!r}; use 'hinge' or 'nsgan'")


def reconstruction_loss(reconstruction: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """L1 between D's decoder output and the real input at the decoder's size.

    FastGAN uses LPIPS; we use L1 because no pretrained perceptual network is available offline.
    """
    target = F.interpolate(images, size=reconstruction.shape[-2:], mode="area")
    return (reconstruction.float() - target.float()).abs().mean()


def r1_penalty(real_logits: torch.Tensor, real_images: torch.Tensor) -> torch.Tensor:
    """Squared gradient norm of D on reals (Mescheder et al. 2018); needs ``requires_grad`` reals."""
    (gradient,) = torch.autograd.grad(real_logits.sum(), real_images, create_graph=True)
    return gradient.float().square().sum(dim=(1, 2, 3)).mean()
