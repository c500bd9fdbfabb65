"""The invisible watermark survives JPEG quality 85 and a halve-then-restore resize (≥ 95 % bits)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from gan_engine.provenance.mark import burn_mark
from gan_engine.provenance.watermark import (
    BLOCK_PIXELS,
    COLUMN_PERIOD,
    DETECT_MAX_PIXELS,
    MIN_SIDE,
    Payload,
    bit_accuracy,
    decode,
    decode_bits,
    decoding_window,
    detect,
    embed,
)
from tests.provenance.conftest import faces

PAYLOAD = Payload.for_ids("instance-test", "job-1/seed-7")


def jpeg85(image: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def halve_and_restore(image: Image.Image) -> Image.Image:
    half = image.resize((image.width // 2, image.height // 2), Image.Resampling.BILINEAR)
    return half.resize(image.size, Image.Resampling.BILINEAR)


@pytest.mark.parametrize("side", [64, 128, 256])
def test_watermark_survives_jpeg_and_resize(side: int) -> None:
    for face in faces(2):
        marked = burn_mark(embed(face.resize((side, side), Image.Resampling.LANCZOS), PAYLOAD))
        assert min(marked.size) >= MIN_SIDE
        assert bit_accuracy(marked, PAYLOAD) == 1.0
        assert bit_accuracy(jpeg85(marked), PAYLOAD) >= 0.95
        assert bit_accuracy(halve_and_restore(marked), PAYLOAD) >= 0.95
        assert detect(jpeg85(marked), "instance-test")[0]
        assert not detect(jpeg85(marked), "another-instance")[0]


def test_payload_reads_back_and_unmarked_photo_has_none() -> None:
    face = faces(1)[0].resize((256, 256))
    assert decode(embed(face, PAYLOAD)) == PAYLOAD
    assert decode(face) is None  # the magic byte does not come out of an unmarked photo
    assert not detect(face, "instance-test")[0]
    assert decode(face.resize((64, 64))) is None  # too small to have been marked


def test_payload_layout() -> None:
    bits = PAYLOAD.bits()
    assert bits.shape == (64,)
    assert Payload.from_bits(bits) == PAYLOAD
    flipped = bits.copy()
    flipped[0] ^= 1
    assert Payload.from_bits(flipped) is None
    assert PAYLOAD.generated and not Payload.from_bits(np.zeros(64, np.uint8))


def test_a_large_picture_is_read_through_a_window_with_the_same_bits() -> None:
    """Bounded work for the verify page: a window on the mark's grid, never a resized copy."""
    photo = faces(1)[0].resize((1600, 600), Image.Resampling.LANCZOS)
    marked = jpeg85(embed(photo, PAYLOAD))
    window = decoding_window(marked, max_pixels=300_000)
    assert window.width * window.height <= 300_000 and window.height % BLOCK_PIXELS == 0
    assert (marked.width - window.width) % COLUMN_PERIOD == 0 and window.width < marked.width
    assert np.array_equal(decode_bits(window), decode_bits(marked))
    assert detect(marked, "instance-test", max_pixels=300_000)[0]
    # Why not a smaller copy: resizing moves the 8-pixel grid and the mark is gone.
    smaller = marked.resize((1200, 450), Image.Resampling.LANCZOS)
    assert not detect(smaller, "instance-test")[0]


@pytest.mark.parametrize("size", [(12_000, 900), (900, 12_000), (300, 300), (40_000, 40)])
def test_the_window_is_bounded_whatever_the_shape(size: tuple[int, int]) -> None:
    picture = Image.new("L", size)
    window = decoding_window(picture)
    assert window.width * window.height <= DETECT_MAX_PIXELS
    assert window.width * window.height >= MIN_SIDE * MIN_SIDE  # enough for the decoder
    assert (size[0] - window.width) % COLUMN_PERIOD == 0
    assert window.height == size[1] or window.height % BLOCK_PIXELS == 0
