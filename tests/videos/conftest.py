"""Fixtures for the video product tests: a photo with a real face, consent helpers."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.engine.conftest import encoder, face_photos, prepared  # noqa: F401 - fixtures
from tests.videos import samples


@pytest.fixture
def face_photo(family):
    """A photo of a real face in the family's memorial, uploaded by the contributor."""
    from memorial.memorials.ingest import ingest_photo

    return ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile("portrait.jpg", samples.face_jpeg()),
        user=family.contributor,
        attested=True,
        caption="Grandma at the window",
    )


@pytest.fixture
def consent(family):
    """Approve scopes for the family's memorial: ``consent("generated_videos", "voice")``."""
    from tests.jobs.conftest import approve

    def give(*scopes):
        return approve(family.memorial, *scopes)

    return give


def voice_upload(name: str = "voice.wav", data: bytes | None = None, seconds: float = 1.0):
    return SimpleUploadedFile(
        name, samples.voice_wav(seconds) if data is None else data, "audio/wav"
    )


@pytest.fixture(scope="session")
def tiny_checkpoint(prepared, encoder, tmp_path_factory):  # noqa: F811 - fixtures imported above
    """A 16 px model trained for a few steps: enough for a film's plumbing, in seconds."""
    from gan_engine.checkpoint import CHECKPOINT_NAME
    from gan_engine.train import TrainConfig, train

    out = tmp_path_factory.mktemp("videos-model") / "run"
    config = TrainConfig(
        data=str(prepared), out=str(out), resolution=16, steps=4, batch=4, width=0.25,
        z_dim=32, cond_dim=32, device="cpu", sample_every=0, min_photos=2,
    )  # fmt: skip
    train(config, encoder=encoder)
    return out / CHECKPOINT_NAME
