"""Differentiable augmentation and the adaptive probability controller."""

from __future__ import annotations

import pytest
import torch

from gan_engine.augment import OPS, AdaController, Augment


def images() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(6, 3, 16, 16) * 2 - 1


def test_identity_at_probability_zero():
    x = images()
    assert torch.equal(Augment()(x, 0.0), x)


@pytest.mark.parametrize("op", OPS)
def test_each_transform_changes_images_and_passes_gradients(op):
    x = images().requires_grad_(True)
    torch.manual_seed(1)
    out = Augment([op])(x, 1.0)
    assert out.shape == x.shape
    assert not torch.equal(out, x)
    out.square().sum().backward()
    assert x.grad is not None
    assert torch.isfinite(x.grad).all()
    assert x.grad.abs().sum() > 0


def test_unknown_transform_is_refused():
    with pytest.raises(ValueError, match="unknown augmentations"):
        Augment(["flip", "melt"])


def test_ada_raises_p_when_the_discriminator_overfits_and_lowers_it_otherwise():
    ada = AdaController(target=0.6, interval=2, speed_images=100)
    for _ in range(10):
        ada.observe(torch.ones(8))  # D sure of every real: r_t = 1 > 0.6
        ada.step(batch_size=8)
    assert ada.p == pytest.approx(0.8)  # capped at p_max
    assert ada.last_rt == 1.0
    for _ in range(4):
        ada.observe(-torch.ones(8))
        ada.step(batch_size=8)
    assert ada.p == pytest.approx(0.8 - 2 * 16 / 100)


def test_ada_state_round_trips():
    ada = AdaController(p=0.3, interval=3)
    ada.observe(torch.tensor([1.0, -1.0, 1.0]))
    ada.step(4)
    copy = AdaController()
    copy.load_state_dict(ada.state_dict())
    assert copy.state_dict() == ada.state_dict()


def test_fixed_probability_does_not_adapt():
    ada = AdaController(p=0.25, adaptive=False, interval=1)
    ada.observe(torch.ones(4))
    ada.step(4)
    assert ada.p == 0.25
