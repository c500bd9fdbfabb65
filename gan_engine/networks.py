"""Generator and discriminator for a few dozen photos of one person, at 16 (tests), 64, 128 or 256 px.

Design, for tiny data sets on small machines (after FastGAN, Liu et al. 2021, and BigGAN):

* Generator: noise ``z`` and the projected caption embedding are concatenated into a condition
  vector, which seeds a 4x4 map and also drives *conditional batch norm* in every up-sampling block
  (BigGAN), so the caption steers every scale, not only the first. *Skip-layer excitation*
  (FastGAN) gates high-resolution channels from low-resolution features: a cheap, strong gradient
  path that trains fast with little data. Nearest-neighbour up-sampling then 3x3 convolutions
  (no transposed convolutions beyond the first 4x4) avoids checkerboard artefacts.
* Discriminator: residual down-sampling blocks with spectral normalisation (keeps D Lipschitz
  without batch statistics, so R1 and per-sample results stay meaningful), *projection
  conditioning* on the caption (Miyato & Koyama 2018), and a small *self-supervised decoder* that
  reconstructs the real input from D's 8x8 features (FastGAN): D must keep describing the whole
  face, not just memorise a few tell-tale pixels, which is its main failure on 20-60 images.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

from gan_engine import RESOLUTIONS, defaults
from gan_engine.defaults import PADDINGS

#: Channels per feature-map size at width 1.0; scaled by ``NetConfig.width`` (2-4 on a GPU).
#: Sized so that a 2-core CPU trains enough images in a 15-minute budget to learn a face
#: (5.2 GFLOP per image; BENCHMARKS.md, "Engine speed").
BASE_CHANNELS = {4: 128, 8: 128, 16: 64, 32: 64, 64: 32, 128: 16, 256: 8}


@dataclass(frozen=True)
class NetConfig:
    """Architecture hyper-parameters; stored in every checkpoint and checked on load."""

    resolution: int = defaults.RESOLUTION
    z_dim: int = 128
    text_dim: int = 384
    cond_dim: int = 128
    width: float = defaults.WIDTH
    #: How G's 3x3 convolutions see past the border: "reflect" (the default), because zero padding
    #: gives every layer a border to echo as a grid of lines on the samples (bench/gan_spectrum.py;
    #: BENCHMARKS.md, "Engine quality"); "zeros" for models trained with it.
    padding: str = defaults.PADDING
    #: Whether G's caption projection has a bias. With one, "no caption" still feeds the 4x4 seed a
    #: constant, from which G can draw one layout whatever the noise; without, the layout has to
    #: come from the noise (bench/gan_ablation.py; BENCHMARKS.md, "Engine quality").
    caption_bias: bool = defaults.CAPTION_BIAS

    def channels(self, size: int) -> int:
        return max(8, int(BASE_CHANNELS[size] * self.width))

    def __post_init__(self) -> None:
        if self.resolution not in RESOLUTIONS:
            raise ValueError(
                f"resolution {self.resolution} is not supported; choose from {RESOLUTIONS}"
            )
        if self.padding not in PADDINGS:
            raise ValueError(f"padding {self.padding!r} is not supported; choose from {PADDINGS}")


class ConditionalBatchNorm(nn.Module):
    """Batch norm whose scale and shift come from the condition vector (BigGAN)."""

    def __init__(self, channels: int, cond: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Linear(cond, channels)
        self.bias = nn.Linear(cond, channels)
        nn.init.zeros_(self.gain.weight)
        nn.init.zeros_(self.gain.bias)
        nn.init.zeros_(self.bias.weight)
        nn.init.zeros_(self.bias.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        gain = 1 + self.gain(cond)[:, :, None, None]
        return self.norm(x) * gain + self.bias(cond)[:, :, None, None]


class UpBlock(nn.Module):
    """Double the size: nearest-neighbour up-sampling, 3x3 conv, conditional BN, gated linear
    unit."""

    def __init__(self, in_ch: int, out_ch: int, cond: int, padding: str = "reflect") -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch * 2, 3, padding=1, padding_mode=padding, bias=False)
        self.norm = ConditionalBatchNorm(out_ch * 2, cond)
        self.conv2 = nn.Conv2d(out_ch, out_ch * 2, 3, padding=1, padding_mode=padding, bias=False)
        self.norm2 = ConditionalBatchNorm(out_ch * 2, cond)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = F.glu(self.norm(self.conv(x), cond), dim=1)
        return F.glu(self.norm2(self.conv2(x), cond), dim=1)


class SkipExcitation(nn.Module):
    """FastGAN's skip-layer excitation: low-resolution features gate high-resolution channels."""

    def __init__(self, src_ch: int, dst_ch: int) -> None:
        super().__init__()
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(4),
            nn.Conv2d(src_ch, dst_ch, 4),
            nn.SiLU(),
            nn.Conv2d(dst_ch, dst_ch, 1),
            nn.Sigmoid(),
        )

    def forward(self, small: torch.Tensor, large: torch.Tensor) -> torch.Tensor:
        return large * self.gate(small)


class Generator(nn.Module):
    """``G(z, caption_embedding) -> image`` in [-1, 1]; a zero embedding means 'no caption'."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        cond = config.z_dim + config.cond_dim
        self.text_proj = nn.Linear(config.text_dim, config.cond_dim, bias=config.caption_bias)
        c4 = config.channels(4)
        self.initial = nn.ConvTranspose2d(cond, c4 * 2, 4, bias=False)
        self.initial_norm = nn.BatchNorm2d(c4 * 2)
        self.sizes = [4 * 2**i for i in range(1, config.resolution.bit_length() - 2)]
        self.blocks = nn.ModuleDict(
            {
                str(s): UpBlock(config.channels(s // 2), config.channels(s), cond, config.padding)
                for s in self.sizes
            }
        )
        # Excite each size >= 32 from the size eight times smaller (FastGAN: 8->128, 16->256, ...).
        self.excite = nn.ModuleDict(
            {
                str(s): SkipExcitation(config.channels(s // 8), config.channels(s))
                for s in self.sizes
                if s >= 32
            }
        )
        self.to_rgb = nn.Conv2d(
            config.channels(config.resolution), 3, 3, padding=1, padding_mode=config.padding
        )

    def condition(self, z: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        return torch.cat([z, self.text_proj(text)], dim=1)

    def forward(
        self, z: torch.Tensor, text: torch.Tensor, norm_z: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``norm_z`` (default ``z``) is the noise the norms see: a diagnosis can hold one path
        still and vary the other (``bench/gan_shape.py --paths``)."""
        cond = self.condition(z, text)
        x = F.glu(self.initial_norm(self.initial(cond[:, :, None, None])), dim=1)
        if norm_z is not None:
            cond = torch.cat([norm_z, cond[:, self.config.z_dim :]], dim=1)
        features = {4: x}
        for size in self.sizes:
            x = self.blocks[str(size)](x, cond)
            if str(size) in self.excite:
                x = self.excite[str(size)](features[size // 8], x)
            features[size] = x
        return torch.tanh(self.to_rgb(x))


def _sn_conv(in_ch: int, out_ch: int, kernel: int, stride: int = 1, padding: int = 0) -> nn.Module:
    return spectral_norm(nn.Conv2d(in_ch, out_ch, kernel, stride, padding))


class DownBlock(nn.Module):
    """Halve the size: a strided 4x4 path and an average-pooled 1x1 shortcut, averaged."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            _sn_conv(in_ch, out_ch, 4, 2, 1),
            nn.LeakyReLU(0.2),
            _sn_conv(out_ch, out_ch, 3, 1, 1),
            nn.LeakyReLU(0.2),
        )
        self.skip = nn.Sequential(nn.AvgPool2d(2), _sn_conv(in_ch, out_ch, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.main(x) + self.skip(x)) * (0.5**0.5)


class Decoder(nn.Module):
    """Self-supervision: reconstruct the (small) input image from D's 8x8 features."""

    def __init__(self, in_ch: int, out_size: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        ch, size = in_ch, 8
        while size < out_size:
            layers += [
                nn.Upsample(scale_factor=2.0, mode="nearest"),
                nn.Conv2d(ch, max(16, ch // 2), 3, padding=1),
                nn.LeakyReLU(0.2),
            ]
            ch, size = max(16, ch // 2), size * 2
        layers += [nn.Conv2d(ch, 3, 3, padding=1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.out_size = out_size

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features)


class Discriminator(nn.Module):
    """``D(image, caption_embedding) -> (logit, reconstruction)``; reconstruction on request."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        res = config.resolution
        self.from_rgb = nn.Sequential(_sn_conv(3, config.channels(res), 3, 1, 1), nn.LeakyReLU(0.2))
        self.sizes = [res // 2**i for i in range(1, res.bit_length() - 2)]  # res/2 ... 4
        self.blocks = nn.ModuleList(
            DownBlock(config.channels(s * 2), config.channels(s)) for s in self.sizes
        )
        c4 = config.channels(4)
        self.head = nn.Sequential(_sn_conv(c4, c4, 3, 1, 1), nn.LeakyReLU(0.2))
        self.logit = spectral_norm(nn.Linear(c4 * 16, 1))
        self.embed = spectral_norm(nn.Linear(config.text_dim, c4, bias=False))
        self.decoder = Decoder(config.channels(8), min(res, 32))

    def forward(
        self, images: torch.Tensor, text: torch.Tensor, reconstruct: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = self.from_rgb(images)
        features8 = None
        for size, block in zip(self.sizes, self.blocks, strict=True):
            x = block(x)
            if size == 8:
                features8 = x
        x = self.head(x)
        logit = self.logit(x.flatten(1)).squeeze(1)
        # Projection: the caption pulls the logit towards images that fit it; zero for no caption.
        logit = logit + (self.embed(text) * x.sum(dim=(2, 3))).sum(dim=1)
        recon = self.decoder(features8) if reconstruct and features8 is not None else None
        return logit, recon

    def input_stages(self) -> list[nn.Module]:
        """The layers from the image inwards, one per resolution (``from_rgb``, then each
        down-sampling block): the first ones see edges and textures any face has, which is why a
        few-shot fine-tuning may keep them as the prior learned them (``TrainConfig.freeze_d``)."""
        return [self.from_rgb, *self.blocks]


def make_ema(generator: Generator) -> Generator:
    """A frozen copy of the generator whose weights follow an exponential moving average."""
    ema = copy.deepcopy(generator).eval()
    for parameter in ema.parameters():
        parameter.requires_grad_(False)
    return ema


@torch.no_grad()
def update_ema(ema: Generator, generator: Generator, beta: float) -> None:
    """``ema = beta * ema + (1 - beta) * generator``; batch-norm statistics are copied as they are."""
    for target, source in zip(ema.parameters(), generator.parameters(), strict=True):
        target.lerp_(source.detach(), 1.0 - beta)
    for target, source in zip(ema.buffers(), generator.buffers(), strict=True):
        target.copy_(source)
