"""C2PA through write_image: trusted with the instance CA, invalid after one changed byte of image
data, only "valid" for another instance's CA, and absent on a real photo."""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from gan_engine.outputs import write_image
from gan_engine.provenance import Provenance, verify
from gan_engine.provenance.authority import Authority, create_authority
from gan_engine.provenance.c2pa_sign import TRAINED_ALGORITHMIC_MEDIA
from gan_engine.provenance.watermark import Payload, decode
from tests.images import jpeg, real_face_photos
from tests.provenance.conftest import faces


def flip_idat_byte(data: bytes) -> bytes:
    """``data`` with one byte inside the first IDAT chunk's data changed (CRC left alone)."""
    position = 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        if kind == b"IDAT":
            at = position + 8 + length // 2
            return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]
        position += 12 + length
    raise AssertionError("no IDAT chunk")


@pytest.fixture
def signed(tmp_path: Path, provenance: Provenance) -> bytes:
    face = faces(1)[0].resize((64, 64))
    path = write_image(face, tmp_path / "g.png", kind="generated", provenance=provenance)
    return path.read_bytes()


def test_signed_image_is_trusted_and_says_what_it_is(
    signed: bytes, authority: Authority, provenance: Provenance, tmp_path: Path
) -> None:
    result = verify(signed, "image/png", authority.ca_cert)
    assert result.verdict == "trusted", result.failures
    assert result.generation == {
        "instance": "instance-test",
        "item": "job-1/seed-7",
        "model_version": "mv-42",
        "consent": "consent-9",
    }
    [actions] = [a for a in result.manifest["assertions"] if a["label"].startswith("c2pa.actions")]
    [created] = actions["data"]["actions"]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    picture = Image.open(tmp_path / "g.png")
    assert picture.size == (256, 256)  # upscaled for the watermark
    assert picture.text["memorial:generated"] == "true"
    assert decode(picture) == Payload.for_ids("instance-test", "job-1/seed-7")


def test_one_changed_byte_makes_it_invalid(signed: bytes, authority: Authority) -> None:
    result = verify(flip_idat_byte(signed), "image/png", authority.ca_cert)
    assert result.verdict == "invalid"


def test_another_instance_ca_is_not_trusted(signed: bytes) -> None:
    stranger = create_authority("Another instance")
    assert verify(signed, "image/png", stranger.ca_cert).verdict == "valid"


def test_real_photo_has_no_manifest(authority: Authority) -> None:
    real = real_face_photos(1)
    data = real[0].read_bytes() if real else jpeg(3)
    assert verify(data, "image/jpeg", authority.ca_cert).verdict == "none"


def test_unsigned_provenance_and_refusals(tmp_path: Path, provenance: Provenance) -> None:
    face = faces(1)[0]
    path = write_image(
        face, tmp_path / "u.png", kind="generated", provenance=replace(provenance, signer=None)
    )
    assert verify(path.read_bytes(), "image/png", None).verdict == "none"
    assert decode(Image.open(path)) is not None
    with pytest.raises(ValueError, match="generated images only"):
        write_image(face, tmp_path / "c.png", kind="crop", provenance=provenance)
    assert not (tmp_path / "c.png").exists()
