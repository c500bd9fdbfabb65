"""Network shapes at every size, conditioning and the EMA copy."""

from __future__ import annotations

import pytest
import torch

from gan_engine.networks import Discriminator, Generator, NetConfig, make_ema, update_ema


@pytest.mark.parametrize("resolution", [16, 64, 128, 256])
def test_generator_and_discriminator_shapes(resolution):
    torch.manual_seed(0)
    config = NetConfig(resolution=resolution, z_dim=32, cond_dim=32, width=0.25)
    generator, discriminator = Generator(config), Discriminator(config)
    text = torch.randn(2, 384)
    images = generator(torch.randn(2, 32), text)
    assert images.shape == (2, 3, resolution, resolution)
    assert images.abs().max() <= 1
    logits, reconstruction = discriminator(images, text, reconstruct=True)
    assert logits.shape == (2,)
    assert reconstruction is not None
    assert reconstruction.shape == (2, 3, min(resolution, 32), min(resolution, 32))
    assert discriminator(images, text)[1] is None


def test_unsupported_resolution_is_refused():
    with pytest.raises(ValueError, match="resolution 32 is not supported"):
        NetConfig(resolution=32)


def test_caption_changes_the_image_and_the_logit():
    torch.manual_seed(0)
    config = NetConfig(resolution=16, z_dim=32, cond_dim=32, width=0.25)
    generator, discriminator = Generator(config).eval(), Discriminator(config)
    z = torch.randn(1, 32)
    a, b = torch.randn(1, 384), torch.randn(1, 384)
    assert not torch.allclose(generator(z, a), generator(z, b))
    image = generator(z, a)
    assert not torch.allclose(discriminator(image, a)[0], discriminator(image, b)[0])


def test_ema_follows_the_generator():
    config = NetConfig(resolution=16, z_dim=32, cond_dim=32, width=0.25)
    generator = Generator(config)
    ema = make_ema(generator)
    assert all(not p.requires_grad for p in ema.parameters())
    with torch.no_grad():
        for parameter in generator.parameters():
            parameter.add_(1.0)
    before = next(ema.parameters()).clone()
    update_ema(ema, generator, beta=0.5)
    after = next(ema.parameters())
    assert torch.allclose(after, before + 0.5)
