"""The public "Verify a file" page with MP4 videos: a signed, watermarked video of this instance is
trusted and its watermark found; a changed byte makes it invalid; an unsigned video has neither."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gan_engine.provenance import Provenance, SignerMaterial
from gan_engine.video import readback, stamp
from gan_engine.video.output import write_video
from memorial.provenance import checks
from memorial.provenance.authority import instance
from tests.images import picture
from tests.video.test_video_provenance import flip_media_byte

pytestmark = pytest.mark.django_db


def frames(count: int = 30) -> list[np.ndarray]:
    """A slow pan over a photo-like picture, 256 px (large enough for the watermark)."""
    base = np.asarray(picture(320, 256, seed=3))
    return [np.ascontiguousarray(base[:, i : i + 256]) for i in range(count)]


@pytest.fixture
def videos(tmp_path: Path) -> tuple[bytes, bytes]:
    me = instance()
    provenance = Provenance(
        instance_id=me.id,
        instance_name=me.name,
        signer=SignerMaterial(chain=me.authority.chain, key=me.authority.sign_key),
        item_id="video-1",
        model_version="mv-1",
        consent_id="consent-1",
    )
    signed = write_video(frames(), tmp_path / "signed.mp4", provenance=provenance)
    plain = write_video(frames(), tmp_path / "plain.mp4")
    return signed.read_bytes(), plain.read_bytes()


def post(client, data: bytes, name: str = "film.mp4") -> str:
    response = client.post("/verify/", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 200
    return response.content.decode()


def test_signed_video_is_trusted_with_its_watermark(videos, client) -> None:
    signed, plain = videos
    page = post(client, signed)
    assert 'data-verdict="trusted"' in page and 'data-watermark="found"' in page
    tampered = post(client, flip_media_byte(signed))
    assert 'data-verdict="invalid"' in tampered
    unsigned = post(client, plain)
    assert 'data-verdict="none"' in unsigned and 'data-watermark="none"' in unsigned
    junk = post(client, b"\0\0\0\x18ftypisom" + b"\0" * 200)
    assert 'data-verdict="none"' in junk or 'data-verdict="invalid"' in junk
    assert 'data-watermark="unchecked"' in junk


def test_another_app_can_link_its_signed_items(videos, client, monkeypatch) -> None:
    @dataclass
    class Item:
        def get_absolute_url(self) -> str:
            return "/videos/item-for-test/"

    seen: list[dict] = []

    def finder(generation: dict, user) -> Item | None:
        seen.append(generation)
        return Item() if generation.get("item") == "video-1" else None

    monkeypatch.setattr(checks, "ITEM_FINDERS", [])
    checks.register_item_finder(finder)
    checks.register_item_finder(finder)  # registering twice keeps one
    assert checks.ITEM_FINDERS.count(finder) == 1
    assert "/videos/item-for-test/" in post(client, videos[0])
    assert seen == [
        {
            "instance": instance().id,
            "item": "video-1",
            "model_version": "mv-1",
            "consent": "consent-1",
        }
    ]


def test_readback_decodes_the_watermarked_frames_only() -> None:
    assert readback.WATERMARK_EVERY == stamp.WATERMARK_EVERY
    assert readback.is_mp4(b"\0\0\0\x18ftypisom....") and not readback.is_mp4(b"\x89PNG....")
    assert readback.watermark_frames(b"not a video") == []
