"""Photos without a caption train: the engine encodes a missing caption as the zero vector,
the same input caption dropout feeds a fifth of the time, so the web app may send every family
photo and leave a caption as something that adds to it rather than a condition for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def half_captioned(face_photos, tmp_path) -> Path:
    """The same photos, half of them without a caption."""
    from gan_engine.data import prepare

    captions = json.loads((face_photos / "captions.json").read_text())
    names = sorted(captions)
    pairs = [
        (face_photos / name, captions[name] if i % 2 == 0 else None) for i, name in enumerate(names)
    ]
    out = tmp_path / "prepared"
    prepare(pairs, out, sizes=(16,))
    return out


def test_uncaptioned_photos_are_kept_and_train_on_the_empty_caption(
    half_captioned, tiny_config, encoder
):
    from gan_engine.data import load_faces, load_manifest
    from gan_engine.train import train

    entries = load_manifest(half_captioned)["entries"]
    assert sum(1 for e in entries if e["caption"] is None) >= 2
    assert sum(1 for e in entries if e["caption"]) >= 2
    assert any(c is None for c in load_faces(half_captioned, 16, "all").captions)

    result = train(tiny_config(data=str(half_captioned), steps=2), encoder=encoder)
    assert result.status == "completed" and result.step == 2
    assert result.checkpoint.is_file()
