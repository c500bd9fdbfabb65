"""The small networks restoration trains itself: a face enlarger, a damage detector and fill, and a
colouriser with the critic that trains it.

Both are sized for a CPU: a few hundred thousand weights, so a face crop is enlarged or a
megapixel looked at in about a second, and both train in CPU-minutes to an hour on LFW's general
corpus (gan_engine.restore.training).

* :class:`FaceEnlarger` predicts the detail that a Lanczos enlargement lacks (a residual over it,
  so an untrained network starts as Lanczos and training only adds what the data support).
* :class:`DamageDetector` is a small U-Net that marks scratches, specks and tears: the median
  filter's thin bright/dark line test misses scratches over light skin and low-contrast ends;
  the network sees the line's shape and context.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class _Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.2 * self.conv2(F.relu(self.conv1(x)))


class FaceEnlarger(nn.Module):
    """RGB in [0, 1] at N×N -> RGB at (scale·N)×(scale·N): bicubic plus a learned residual
    (features at the small size, then pixel-shuffle up ×2 per stage)."""

    def __init__(self, scale: int = 4, channels: int = 48, blocks: int = 8) -> None:
        super().__init__()
        if scale not in (2, 4):
            raise ValueError("scale is 2 or 4")
        self.scale = scale
        self.head = nn.Conv2d(3, channels, 3, padding=1)
        self.body = nn.Sequential(*(_Residual(channels) for _ in range(blocks)))
        self.body_end = nn.Conv2d(channels, channels, 3, padding=1)
        ups: list[nn.Module] = []
        for _ in range({2: 1, 4: 2}[scale]):
            ups += [nn.Conv2d(channels, channels * 4, 3, padding=1), nn.PixelShuffle(2), nn.ReLU()]
        self.up = nn.Sequential(*ups)
        self.tail = nn.Conv2d(channels, 3, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        features = self.head(x)
        features = features + self.body_end(self.body(features))
        return base + self.tail(self.up(features))


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1),
        nn.LeakyReLU(0.1),
        nn.Conv2d(cout, cout, 3, padding=1),
        nn.LeakyReLU(0.1),
    )


class _UNet(nn.Module):
    """Three halvings and back, with skips; H and W must be multiples of 8."""

    def __init__(self, inputs: int, outputs: int, channels: int = 16) -> None:
        super().__init__()
        c = channels
        self.down1, self.down2 = _block(inputs, c), _block(c, 2 * c)
        self.down3, self.middle = _block(2 * c, 4 * c), _block(4 * c, 4 * c)
        self.up3, self.up2, self.up1 = _block(8 * c, 2 * c), _block(4 * c, c), _block(2 * c, c)
        self.out = nn.Conv2d(c, outputs, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        d1 = self.down1(x)
        d2 = self.down2(F.avg_pool2d(d1, 2))
        d3 = self.down3(F.avg_pool2d(d2, 2))
        m = self.middle(F.avg_pool2d(d3, 2))
        u3 = self.up3(torch.cat([F.interpolate(m, scale_factor=2), d3], 1))
        u2 = self.up2(torch.cat([F.interpolate(u3, scale_factor=2), d2], 1))
        u1 = self.up1(torch.cat([F.interpolate(u2, scale_factor=2), d1], 1))
        return self.out(u1)


class DamageDetector(_UNet):
    """RGB in [0, 1] (H, W multiples of 8) -> one logit per pixel: damaged or not."""

    def __init__(self) -> None:
        super().__init__(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x - 0.5)[:, 0]


class DamageFill(_UNet):
    """A correction to OpenCV's Telea inpainting: given the photo with the masked pixels already
    filled by Telea, and the mask (1 = damaged), it returns the photo with the masked pixels
    corrected from their surroundings; the unmasked pixels are returned as they came. Its last
    layer starts at zero, so an untrained fill is Telea's and training can only add what the
    data support (Telea is hard to beat on thin lines: a fill learned from scratch in 30
    CPU-minutes scored 2.5 dB below it)."""

    def __init__(self) -> None:
        super().__init__(4, 3)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, filled: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask[:, None]
        painted = filled + self.features(torch.cat([filled - 0.5, m], 1))
        return filled * (1 - m) + painted.clamp(0, 1) * m


class Colouriser(nn.Module):
    """CIE Lab lightness (L / 100, H and W multiples of 16) -> chroma (a, b) / ``AB_SCALE``.

    Colour is mostly decided by what a region *is* (skin, sky, a suit), which needs more context
    than a small U-Net's three halvings see, so this one halves four times and adds a summary of
    the whole picture (its mean features) at the bottom, as Iizuka et al.'s global features do.
    Its last layer starts at zero: an untrained colouriser leaves the photo grey."""

    def __init__(self, channels: int = 24) -> None:
        super().__init__()
        widths = [channels, 2 * channels, 4 * channels, 4 * channels, 6 * channels]
        self.downs = nn.ModuleList(
            _block(cin, cout) for cin, cout in zip([1, *widths[:-1]], widths, strict=True)
        )
        self.summary = nn.Sequential(nn.Linear(widths[-1], widths[-1]), nn.LeakyReLU(0.1))
        self.ups = nn.ModuleList(
            _block(widths[i + 1] + widths[i], widths[i]) for i in reversed(range(len(widths) - 1))
        )
        self.out = nn.Conv2d(channels, 2, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, lightness: torch.Tensor) -> torch.Tensor:
        skips = []
        x = lightness - 0.5
        for index, down in enumerate(self.downs):
            x = down(x if index == 0 else F.avg_pool2d(x, 2))
            skips.append(x)
        x = x + self.summary(x.mean(dim=(2, 3)))[:, :, None, None]
        for up, skip in zip(self.ups, reversed(skips[:-1]), strict=True):
            x = up(torch.cat([F.interpolate(x, scale_factor=2), skip], 1))
        return torch.tanh(self.out(x))


#: Chroma (a, b) is divided by this for the colouriser, so its outputs lie in (-1, 1).
AB_SCALE = 110.0


class ColourCritic(nn.Module):
    """The colouriser's adversary: (L, a, b) -> one realness score per 8×8 patch (PatchGAN), so
    it judges whether colours are plausible for what each part of the picture shows."""

    def __init__(self, channels: int = 32) -> None:
        super().__init__()
        c = channels
        self.layers = nn.Sequential(
            nn.Conv2d(3, c, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(c, 2 * c, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * c, 4 * c, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(4 * c, 1, 3, 1, 1),
        )

    def forward(self, lightness: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        return self.layers(torch.cat([lightness - 0.5, ab], 1))


NETWORKS: dict[str, type[nn.Module]] = {
    "face_enlarger": FaceEnlarger,
    "damage": DamageDetector,
    "fill": DamageFill,
    "colouriser": Colouriser,
}
