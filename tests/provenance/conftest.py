"""Shared fixtures: one instance authority per test session (key generation is cheap, but once is enough)."""

from __future__ import annotations

import pytest
from PIL import Image

from gan_engine.provenance import Provenance, SignerMaterial
from gan_engine.provenance.authority import Authority, create_authority
from tests.images import packaged_face, real_face_photos


@pytest.fixture(scope="session")
def authority() -> Authority:
    return create_authority("Test Memorial instance")


@pytest.fixture
def provenance(authority: Authority) -> Provenance:
    return Provenance(
        instance_id="instance-test",
        instance_name="Test Memorial instance",
        signer=SignerMaterial(chain=authority.chain, key=authority.sign_key),
        item_id="job-1/seed-7",
        model_version="mv-42",
        consent_id="consent-9",
    )


def faces(count: int) -> list[Image.Image]:
    """Real face photos: LFW's when the shared data set is present, else scikit-image's astronaut
    (a real photo too: the watermark is meant for photos, not flat drawn shapes)."""
    real = real_face_photos(count)
    if real:
        return [Image.open(path).convert("RGB") for path in real]
    return [packaged_face(variant) for variant in range(count)]
