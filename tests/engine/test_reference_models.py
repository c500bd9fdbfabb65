"""The benchmark's reference DCGANs (bench/reference_models.py): shapes, layers as described,
a training step that changes the weights, and the quality benchmark's fixed plan."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from bench.reference_models import ReferenceGAN

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kind", ["dcgan", "dcgan_bn"])
@pytest.mark.parametrize("resolution", [64, 128])
def test_shapes(kind, resolution):
    gan = ReferenceGAN(kind, resolution)
    images = gan.G(torch.randn(2, 128), torch.zeros(2, 384))
    assert images.shape == (2, 3, resolution, resolution)
    assert images.abs().max() <= 1
    assert gan.D(images, torch.zeros(2, 384)).shape == (2,)


def test_the_plain_dcgan_has_no_normalisation_and_the_radford_one_has_batch_norm():
    plain, radford = ReferenceGAN("dcgan"), ReferenceGAN("dcgan_bn")
    for model in (plain.G, plain.D):
        assert not [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len([m for m in radford.G.modules() if isinstance(m, nn.BatchNorm2d)]) == 3
    assert len([m for m in radford.D.modules() if isinstance(m, nn.BatchNorm2d)]) == 2
    assert plain.G.dense.out_features == 8 * 8 * 256
    assert [type(m) for m in plain.G.children()].count(nn.ConvTranspose2d) == 3
    assert [type(m) for m in plain.D.children()].count(nn.Conv2d) == 3


def test_a_training_step_moves_both_networks():
    torch.manual_seed(0)
    gan = ReferenceGAN("dcgan_bn")
    before_g = [p.clone() for p in gan.G.parameters()]
    before_d = [p.clone() for p in gan.D.parameters()]
    losses = gan.train_step(torch.rand(4, 3, 64, 64) * 2 - 1, torch.zeros(4, 384))
    assert set(losses) == {"d", "g"} and all(
        torch.isfinite(torch.tensor(v)) for v in losses.values()
    )
    assert any(not torch.equal(a, b) for a, b in zip(before_g, gan.G.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(before_d, gan.D.parameters(), strict=True))


def test_quality_benchmark_plan_names_the_full_cost():
    done = subprocess.run(
        [sys.executable, "bench/gan_quality.py", "--plan"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (
        "6 people x 3 models x 2 prior settings = 36 runs of 900 CPU-s (9.0 CPU-hours)"
        in done.stdout
    )
