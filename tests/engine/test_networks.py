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
    minibatch_std,
    update_ema,
)


@pytest.mark.parametrize(
    ("mbstd", "upsample", "noise", "padding"),
    [(0, "nearest", "everywhere", "zeros"), (4, "bilinear", "seed", "reflect")],
)
@pytest.mark.parametrize("resolution", [16, 64, 128, 256])
def test_generator_and_discriminator_shapes(resolution, mbstd, upsample, noise, padding):
    torch.manual_seed(0)
    config = NetConfig(
        resolution=resolution,
        z_dim=32,
        cond_dim=32,
        width=0.25,
        mbstd_group=mbstd,
        upsample=upsample,
        noise=noise,
        padding=padding,
    )
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


def test_unsupported_resolution_or_upsampling_is_refused():
    with pytest.raises(ValueError, match="resolution 32 is not supported"):
        NetConfig(resolution=32)
    with pytest.raises(ValueError, match="up-sampling 'bicubic' is not supported"):
        NetConfig(upsample="bicubic")
    with pytest.raises(ValueError, match="noise path 'norms' is not supported"):
        NetConfig(noise="norms")
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


@pytest.mark.parametrize(("noise", "varies_without_seed"), [("everywhere", True), ("seed", False)])
def test_seed_only_noise_cannot_reach_the_norms(noise, varies_without_seed):
    """With ``noise="seed"`` the noise shapes the image through the 4x4 seed alone: cut that path
    and every noise gives the same image, while the first design still varies through its norms
    (whose gains and shifts start at zero, so they are given weights here)."""
    torch.manual_seed(0)
    generator = Generator(
        NetConfig(resolution=16, z_dim=32, cond_dim=32, width=0.25, noise=noise)
    ).eval()
    z, text = torch.randn(2, 32), torch.zeros(2, 384)
    with torch.no_grad():
        for module in generator.modules():
            if isinstance(module, ConditionalBatchNorm):
                torch.nn.init.normal_(module.gain.weight, std=0.5)
                torch.nn.init.normal_(module.bias.weight, std=0.5)
        assert not torch.allclose(*generator(z, text))
        generator.initial.weight.zero_()
        assert torch.allclose(*generator(z, text), atol=1e-6) is not varies_without_seed
        # The diagnosis hook: norms held on one noise, the cut seed leaves nothing to vary.
        assert torch.allclose(*generator(z, text, norm_z=z[:1].expand_as(z)), atol=1e-6)


@pytest.mark.parametrize("caption_bias", [True, False])
def test_without_a_caption_bias_the_seed_has_no_constant_input(caption_bias):
    """With no caption, the first design still feeds the 4x4 seed the projection's bias, a
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


def test_bilinear_upsampling_has_the_same_weights_and_smoother_images():
    """The option changes no weight (checkpoints keep their shape), only how G up-samples: the
    same weights give images with less energy between neighbouring pixels."""
    torch.manual_seed(0)
    nearest = Generator(NetConfig(resolution=16, z_dim=32, cond_dim=32, width=0.25)).eval()
    bilinear = Generator(
        NetConfig(resolution=16, z_dim=32, cond_dim=32, width=0.25, upsample="bilinear")
    ).eval()
    bilinear.load_state_dict(nearest.state_dict())
    z, text = torch.randn(8, 32), torch.randn(8, 384)

    def roughness(images: torch.Tensor) -> float:
        return float((images[..., 1:] - images[..., :-1]).abs().mean())

    with torch.no_grad():
        assert roughness(bilinear(z, text)) < roughness(nearest(z, text))


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


def test_minibatch_std_tells_a_collapsed_batch_from_a_varied_one():
    """The extra channel is what lets D spot a generator that makes one face for every noise."""
    torch.manual_seed(0)
    varied = torch.randn(8, 5, 4, 4)
    collapsed = varied[:1].expand(8, -1, -1, -1)
    spread_varied = minibatch_std(varied, 4)[:, -1]
    spread_collapsed = minibatch_std(collapsed, 4)[:, -1]
    assert spread_collapsed.max() < 1e-3
    assert spread_varied.min() > 0.5
    # One value per group, the same at every position; the features pass through unchanged.
    assert torch.equal(minibatch_std(varied, 4)[:, :5], varied)
    assert spread_varied.unique().numel() == 2  # 8 samples in groups of 4


@pytest.mark.parametrize("batch", [1, 6, 16])
def test_minibatch_std_works_for_any_batch_size(batch):
    """An out-of-memory retry halves the batch to sizes the group does not divide."""
    out = minibatch_std(torch.randn(batch, 3, 4, 4), 4)
    assert out.shape == (batch, 4, 4, 4)
    assert torch.isfinite(out).all()
