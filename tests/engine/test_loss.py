"""The mode-seeking term: it rewards samples whose structure differs, not their colour."""

from __future__ import annotations

import torch

from gan_engine.loss import mode_seeking_loss, structure


def faces(count: int, shift: int = 0) -> torch.Tensor:
    """Images of a bright square on dark ground; ``shift`` moves it (a change of pose)."""
    images = torch.full((count, 3, 32, 32), -1.0)
    images[:, :, 8:20, 8 + shift : 20 + shift] = 1.0
    return images


def test_structure_ignores_colour_and_brightness():
    image = faces(1)
    recoloured = image * 0.5 + torch.tensor([0.3, -0.2, 0.1])[None, :, None, None]
    assert torch.allclose(structure(image), structure(recoloured), atol=1e-3)
    assert not torch.allclose(structure(image), structure(faces(1, shift=8)), atol=1e-1)


def test_varied_structure_costs_less_than_one_pose_in_many_colours():
    z = torch.randn(8, 32, generator=torch.Generator().manual_seed(0))
    one_pose = faces(8) * torch.linspace(0.3, 1.0, 8)[:, None, None, None]
    varied = torch.cat([faces(4), faces(4, shift=8)])
    assert mode_seeking_loss(varied, z) < mode_seeking_loss(one_pose, z) / 10


def test_its_gradient_reaches_the_generator_and_a_batch_of_one_is_free():
    images = faces(4).requires_grad_(True)
    noisy = images + 0.01 * torch.randn_like(images)
    mode_seeking_loss(noisy, torch.randn(4, 32)).backward()
    assert images.grad is not None and images.grad.abs().sum() > 0
    assert float(mode_seeking_loss(faces(1), torch.randn(1, 32))) == 0.0
