"""The caption encoder: offline, meaningful, cached, explicit about truncation."""

from __future__ import annotations

import socket

import torch

from gan_engine.text import CaptionEncoder


def test_encoder_loads_without_network_and_similar_captions_are_closer(tmp_path, monkeypatch):
    def no_network(*_args, **_kwargs):
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    encoder = CaptionEncoder(cache_dir=tmp_path)
    vectors = encoder.encode(
        [
            "smiling, in a black suit, looking at the camera",
            "a smiling man wearing a dark suit, facing the camera",
            "a bowl of soup on a wooden kitchen table",
        ]
    )
    assert vectors.shape == (3, 384)
    assert torch.allclose(vectors.norm(dim=1), torch.ones(3), atol=1e-4)
    similar = float(vectors[0] @ vectors[1])
    unrelated = float(vectors[0] @ vectors[2])
    assert similar > unrelated + 0.3


def test_no_caption_is_the_zero_vector(encoder):
    vectors = encoder.encode([None, "   ", "at the beach"])
    assert torch.equal(vectors[0], torch.zeros(384))
    assert torch.equal(vectors[1], torch.zeros(384))
    assert vectors[2].norm() > 0.99


def test_cached_captions_do_not_load_the_model(tmp_path):
    first = CaptionEncoder(cache_dir=tmp_path)
    expected = first.encode(["in the garden with the grandchildren"])
    second = CaptionEncoder(cache_dir=tmp_path)
    assert torch.equal(second.encode(["in the garden with the grandchildren"]), expected)
    assert "_model" not in second.__dict__  # the transformer was never loaded


def test_a_caption_longer_than_the_limit_is_cut_with_a_note(tmp_path):
    encoder = CaptionEncoder(cache_dir=tmp_path)
    long = "a long afternoon by the sea with the whole family " * 60
    vector = encoder.encode([long])
    assert vector.shape == (1, 384)
    assert torch.isfinite(vector).all()
    assert len(encoder.notes) == 1
    assert "cut to the encoder's limit of 256 tokens" in encoder.notes[0]
