"""Network shapes at every size, conditioning and the EMA copy."""

from __future__ import annotations

import pytest
import torch

from gan_engine.networks import (
    ConditionalBatchNorm,
    Discriminator,
    Generator,
    NetConfig,
    UpBlock,
    make_ema,
    update_ema,
)


@pytest.mark.parametrize("padding", ["zeros", "reflect"])
@pytest.mark.parametrize("resolution", [16, 64, 128, 256])
def test_generator_and_discriminator_shapes(resolution, padding):
    torch.manual_seed(0)
    config = NetConfig(resolution=resolution, z_dim=32, cond_dim=32, width=0.25, padding=padding)
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


def test_unsupported_resolution_or_padding_is_refused():
    with pytest.raises(ValueError, match="resolution 32 is not supported"):
        NetConfig(resolution=32)
    with pytest.raises(ValueError, match="padding 'circular' is not supported"):
        NetConfig(padding="circular")


@pytest.mark.parametrize(("padding", "has_border"), [("zeros", True), ("reflect", False)])
def test_only_zero_padding_draws_a_border_on_a_flat_picture(padding, has_border):
    """The grid of lines on trained samples lies on the spectrum's axes, like a border's own
    lines; a flat input through one up-sampling block stays flat with reflection."""
    torch.manual_seed(0)
    block = UpBlock(8, 8, cond=4, padding=padding).eval()
    out = block(torch.ones(1, 8, 4, 4), torch.zeros(1, 4))
    interior = out[..., 2:-2, 2:-2]  # two 3x3 convolutions reach two pixels in
    border_gap = (out - interior.mean(dim=(2, 3), keepdim=True)).abs().amax()
    assert interior.std(dim=(2, 3)).amax() < 1e-5  # flat inside either way
    assert (border_gap > 1e-3) == has_border


def test_the_noise_reaches_the_image_through_the_norms_too():
    """The noise shapes the image through the 4x4 seed and through every norm: cut the seed's
    path and the image still varies through the norms (whose gains and shifts start at zero, so
    they are given weights here), until the norms are held on one noise."""
    torch.manual_seed(0)
    generator = Generator(NetConfig(resolution=16, z_dim=32, cond_dim=32, width=0.25)).eval()
    z, text = torch.randn(2, 32), torch.zeros(2, 384)
    with torch.no_grad():
        for module in generator.modules():
            if isinstance(module, ConditionalBatchNorm):
                torch.nn.init.normal_(module.gain.weight, std=0.5)
                torch.nn.init.normal_(module.bias.weight, std=0.5)
        assert not torch.allclose(*generator(z, text))
        generator.initial.weight.zero_()
        assert not torch.allclose(*generator(z, text), atol=1e-6)
        # The diagnosis hook: norms held on one noise, the cut seed leaves nothing to vary.
        assert torch.allclose(*generator(z, text, norm_z=z[:1].expand_as(z)), atol=1e-6)


@pytest.mark.parametrize("caption_bias", [True, False])
def test_without_a_caption_bias_the_seed_has_no_constant_input(caption_bias):
    """With no caption, a projection with a bias still feeds the 4x4 seed that bias, a
    constant from which G can draw one layout for every noise; without the bias the seed sees the
    noise alone (and a caption, when there is one)."""
    torch.manual_seed(0)
    generator = Generator(
        NetConfig(resolution=16, z_dim=32, cond_dim=32, width=0.25, caption_bias=caption_bias)
    )
    no_caption = generator.condition(torch.zeros(1, 32), torch.zeros(1, 384))
    assert bool(no_caption.abs().amax() > 0) is caption_bias
    assert ("text_proj.bias" in generator.state_dict()) is caption_bias
    with_caption = generator.condition(torch.zeros(1, 32), torch.randn(1, 384))
    assert with_caption.abs().amax() > 0


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
