"""The two reference models the engine is measured against, written for PyTorch from their
descriptions (not copied from anyone's code).

* ``dcgan``: a plain DCGAN, the baseline the engine is held to. Generator: a dense layer from the
  noise and the caption encoding to an 8x8x256 map, then three transposed convolutions
  (256 -> 128 -> 64 -> 3 channels, each doubling the size) with leaky ReLU between them and tanh
  at the end. Discriminator: three strided convolutions (3 -> 64 -> 128 -> 256) with leaky ReLU
  and a dense layer (on the features and the caption encoding) to one logit. No normalisation.
* ``dcgan_bn``: the same layers with batch normalisation as Radford et al. (2016) place it: after
  the dense layer and every transposed convolution of G except the output one, and after every
  convolution of D except the first.

Both train as DCGANs do: the non-saturating loss (binary cross-entropy on logits), Adam with
learning rate 2e-4 and beta1 0.5, horizontal flips as the only augmentation. At 64 px the start
map is 8x8 as written; at 128 and 256 px it is ``resolution / 8`` so that the same three
transposed convolutions reach the resolution (the baseline is defined at 64 px).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

KINDS = ("dcgan", "dcgan_bn")
TEXT_DIM = 384


@dataclass(frozen=True)
class RefConfig:
    """Enough of :class:`gan_engine.networks.NetConfig` for ``gan_engine.evaluate`` to sample."""

    resolution: int = 64
    z_dim: int = 128
    batch_norm: bool = False


def _norm(channels: int, on: bool, dims: int = 2) -> nn.Module:
    if not on:
        return nn.Identity()
    return nn.BatchNorm2d(channels) if dims == 2 else nn.BatchNorm1d(channels)


class RefGenerator(nn.Module):
    """``G(z, caption_embedding) -> image`` in [-1, 1]."""

    def __init__(self, config: RefConfig) -> None:
        super().__init__()
        self.config = config
        self.start = config.resolution // 8
        bn = config.batch_norm
        self.dense = nn.Linear(config.z_dim + TEXT_DIM, self.start * self.start * 256)
        self.dense_norm = _norm(256, bn)
        self.up1 = nn.ConvTranspose2d(256, 128, 4, 2, 1)
        self.norm1 = _norm(128, bn)
        self.up2 = nn.ConvTranspose2d(128, 64, 4, 2, 1)
        self.norm2 = _norm(64, bn)
        self.up3 = nn.ConvTranspose2d(64, 3, 4, 2, 1)

    def forward(self, z: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        x = self.dense(torch.cat([z, text], dim=1)).view(-1, 256, self.start, self.start)
        x = F.leaky_relu(self.dense_norm(x), 0.2)
        x = F.leaky_relu(self.norm1(self.up1(x)), 0.2)
        x = F.leaky_relu(self.norm2(self.up2(x)), 0.2)
        return torch.tanh(self.up3(x))


class RefDiscriminator(nn.Module):
    """``D(image, caption_embedding) -> logit``."""

    def __init__(self, config: RefConfig) -> None:
        super().__init__()
        bn = config.batch_norm
        self.conv1 = nn.Conv2d(3, 64, 4, 2, 1)
        self.conv2 = nn.Conv2d(64, 128, 4, 2, 1)
        self.norm2 = _norm(128, bn)
        self.conv3 = nn.Conv2d(128, 256, 4, 2, 1)
        self.norm3 = _norm(256, bn)
        side = config.resolution // 8
        self.dense = nn.Linear(side * side * 256 + TEXT_DIM, 1)

    def forward(self, images: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.conv1(images), 0.2)
        x = F.leaky_relu(self.norm2(self.conv2(x)), 0.2)
        x = F.leaky_relu(self.norm3(self.conv3(x)), 0.2)
        return self.dense(torch.cat([x.flatten(1), text], dim=1)).squeeze(1)


def _init(module: nn.Module) -> None:
    """Radford et al.'s initialisation: N(0, 0.02) weights, N(1, 0.02) batch-norm gains."""
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class ReferenceGAN:
    """One reference model with its optimisers and its training step."""

    def __init__(self, kind: str, resolution: int = 64, z_dim: int = 128) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown reference model {kind!r}; choose from {KINDS}")
        self.kind = kind
        self.config = RefConfig(resolution, z_dim, batch_norm=kind == "dcgan_bn")
        self.G = RefGenerator(self.config)
        self.D = RefDiscriminator(self.config)
        self.G.apply(_init)
        self.D.apply(_init)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def train_step(self, real: torch.Tensor, text: torch.Tensor) -> dict[str, float]:
        """One D and one G update with the non-saturating loss; flips are the only augmentation."""
        batch = real.shape[0]
        flip = torch.rand(batch, device=real.device) < 0.5
        real = torch.where(flip[:, None, None, None], real.flip(3), real)
        z = torch.randn(batch, self.config.z_dim, device=real.device)
        fake = self.G(z, text)
        d_loss = (
            F.softplus(-self.D(real, text)).mean() + F.softplus(self.D(fake.detach(), text)).mean()
        )
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        self.D.requires_grad_(False)
        g_loss = F.softplus(-self.D(fake, text)).mean()
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        return {"d": float(d_loss.detach()), "g": float(g_loss.detach())}

    def state_dict(self) -> dict:
        return {
            "kind": self.kind,
            "resolution": self.config.resolution,
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
        }

    def load_state_dict(self, state: dict, *, weights_only: bool = False) -> None:
        """Load a saved state; ``weights_only`` (a prior) keeps fresh optimisers."""
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        if not weights_only:
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])
