"""Invisible watermark: a 64-bit payload (magic, flags, instance and item tags) hidden with the
``invisible-watermark`` package's DWT-DCT-SVD method.

Why DWT-DCT-SVD: the plain DWT-DCT method does not survive JPEG at quality 85. The library refuses
images under 256×256, and the engine makes 64–256 px faces, so smaller pictures are upscaled
(Lanczos) to :data:`MIN_SIDE` before embedding; generated photos are shown larger anyway. The
strength is raised from the library's default (see :data:`SCALES`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

#: The smallest side the library accepts (it checks rows × columns ≥ 256²).
MIN_SIDE = 256
#: First payload byte: says "this is a Memorial watermark, layout 1".
MAGIC = 0xA7
FLAG_GENERATED = 0x01
PAYLOAD_BITS = 64
METHOD = "dwtDctSvd"
#: Embedding strength per YUV channel. The library's default (U at 36) left the worst of 20 LFW
#: faces at 77–81 % of bits after JPEG q85; 48 keeps every face ≥ 96.9 % at 39.6 dB PSNR
#: (BENCHMARKS.md, "Provenance").
SCALES = (0, 48, 0)


def tag(identifier: str, size: int = 3) -> bytes:
    """A short, stable tag of an identifier (instance or item id): a SHA-256 prefix, no personal data."""
    return hashlib.sha256(identifier.encode()).digest()[:size]


@dataclass(frozen=True)
class Payload:
    """What the watermark carries: 8 bits magic, 8 bits flags, 24 bits instance tag, 24 bits item tag."""

    instance: bytes
    item: bytes = b"\0\0\0"
    generated: bool = True

    @classmethod
    def for_ids(cls, instance_id: str, item_id: str = "", generated: bool = True) -> Payload:
        return cls(tag(instance_id), tag(item_id) if item_id else b"\0\0\0", generated)

    def to_bytes(self) -> bytes:
        flags = FLAG_GENERATED if self.generated else 0
        return bytes([MAGIC, flags]) + self.instance[:3] + self.item[:3]

    def bits(self) -> np.ndarray:
        return np.unpackbits(np.frombuffer(self.to_bytes(), dtype=np.uint8))

    @classmethod
    def from_bits(cls, bits: np.ndarray) -> Payload | None:
        """The payload if the magic byte reads back exactly, else None (no watermark found)."""
        raw = np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()
        if len(raw) != PAYLOAD_BITS // 8 or raw[0] != MAGIC:
            return None
        return cls(instance=raw[2:5], item=raw[5:8], generated=bool(raw[1] & FLAG_GENERATED))


def prepare_size(image: Image.Image) -> Image.Image:
    """Upscale so the short side is at least :data:`MIN_SIDE` (the library refuses smaller)."""
    width, height = image.size
    short = min(width, height)
    if short >= MIN_SIDE:
        return image
    factor = MIN_SIDE / short
    size = (max(MIN_SIDE, round(width * factor)), max(MIN_SIDE, round(height * factor)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _bgr(image: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def embed(image: Image.Image, payload: Payload) -> Image.Image:
    """``image`` (upscaled to :data:`MIN_SIDE` if smaller) with ``payload`` embedded."""
    array = np.array(prepare_size(image.convert("RGB")))
    embed_array(array, payload)
    return Image.fromarray(array, "RGB")


#: Picture rows marked at a time by :func:`embed_array`: a multiple of the block size, so every
#: band holds whole blocks and numbers them as the whole picture does.
BAND_ROWS = 512
#: How a change of U moves R, G and B with Y and V kept (the inverse of OpenCV's RGB→YUV, its U
#: column), and U's own row of that transform: the decoder reads U through ``cv2.cvtColor``.
_U_TO_RGB = np.array([0.0, -0.395, 2.032], np.float32)
_RGB_TO_U = np.array([-0.299 * 0.492, -0.587 * 0.492, (1 - 0.114) * 0.492], np.float32)


def embed_array(rgb: np.ndarray, payload: Payload) -> None:
    """Embed ``payload`` in an HxWx3 uint8 RGB array (at least :data:`MIN_SIDE` square), in place.

    The library's DWT-DCT-SVD embedding, computed so that the library's decoder reads it: U
    (OpenCV's YUV) is Haar-transformed, and in each 4×4 block of the approximation band (8×8
    pixels; block n, counted row by row, carries bit n mod 64) the largest singular value of the
    block's DCT is moved to ``(s // scale + 0.25 + 0.5·bit) · scale``. Why not the library's own
    encoder: it loops over blocks in Python and converts the whole picture to YUV and float64
    subbands at once, about a minute and 1.5 GB for a 48-megapixel result. Here the blocks are
    changed all at once per band of :data:`BAND_ROWS` rows, and two identities make it cheap:
    the DCT is orthonormal, so the block's DCT has the block's own singular values and vectors
    (moving s₀ of one is moving s₀ of the other), and only the approximation band changes, so
    the inverse Haar step adds half the band's change to each of its 2×2 pixels. That change of
    U goes into R, G and B along the inverse colour transform's U column (Y and V kept), then
    rounded once, instead of the library's round trip through 8-bit YUV.
    """
    scale = float(SCALES[1])
    height, width = rgb.shape[:2]
    if height * width < MIN_SIDE * MIN_SIDE:
        raise ValueError("the watermark needs a picture of at least 256×256 pixels")
    bits = payload.bits().astype(np.float64)
    rows, columns = height // BLOCK_PIXELS, width // BLOCK_PIXELS  # blocks
    for top in range(0, rows * BLOCK_PIXELS, BAND_ROWS):
        bottom = min(rows * BLOCK_PIXELS, top + BAND_ROWS)
        band = rgb[top:bottom, : columns * BLOCK_PIXELS]
        pixels = band.astype(np.float32)
        u = pixels @ _RGB_TO_U + 128.0
        approx = (u[0::2, 0::2] + u[0::2, 1::2] + u[1::2, 0::2] + u[1::2, 1::2]) / 2
        count = (bottom - top) // BLOCK_PIXELS
        blocks = (
            approx.reshape(count, 4, columns, 4).transpose(0, 2, 1, 3).reshape(-1, 4, 4)
        ).astype(np.float64)
        # The largest singular triple from the eigenvectors of BᵀB (half the time of a full SVD).
        values, vectors = np.linalg.eigh(blocks.transpose(0, 2, 1) @ blocks)
        right = vectors[:, :, -1]
        largest = np.sqrt(np.maximum(values[:, -1], 1e-12))
        left = (blocks @ right[:, :, None])[:, :, 0] / largest[:, None]
        first = top // BLOCK_PIXELS * columns
        wanted = bits[(first + np.arange(len(blocks))) % PAYLOAD_BITS]
        target = (largest // scale + 0.25 + 0.5 * wanted) * scale
        change = (target - largest)[:, None, None] * (left[:, :, None] * right[:, None, :])
        change = change.reshape(count, columns, 4, 4).transpose(0, 2, 1, 3)
        change = change.reshape(count * 4, columns * 4).astype(np.float32) / 2
        du = np.repeat(np.repeat(change, 2, axis=0), 2, axis=1)
        pixels += du[..., None] * _U_TO_RGB
        np.clip(np.rint(pixels), 0, 255, out=pixels)
        band[...] = pixels.astype(np.uint8)


def decode_bits(image: Image.Image) -> np.ndarray | None:
    """The 64 raw bits read from ``image``, or None when it is too small to have been marked."""
    from imwatermark import WatermarkDecoder

    picture = image.convert("RGB")
    if picture.width * picture.height < MIN_SIDE * MIN_SIDE:
        return None
    decoder = WatermarkDecoder("bits", PAYLOAD_BITS)
    return np.asarray(decoder.decode(_bgr(picture), METHOD, scales=list(SCALES)), dtype=np.uint8)


def decode(image: Image.Image) -> Payload | None:
    """The watermark payload in ``image``, or None when none is found."""
    bits = decode_bits(image)
    return None if bits is None else Payload.from_bits(bits)


def bit_accuracy(image: Image.Image, payload: Payload) -> float:
    """Share of the payload's bits read back correctly from ``image`` (0.0 when unreadable)."""
    bits = decode_bits(image)
    if bits is None:
        return 0.0
    return float(np.mean(bits == payload.bits()))


#: Bits compared by :func:`detect` (magic, flags, instance tag) and how many must agree: a picture
#: without our mark agrees on about half, so 35 of 40 has odds of about one in a million by chance.
DETECT_BITS = 40
DETECT_THRESHOLD = 35 / 40

#: The decoder's grid: a Haar DWT halves each side, then 4×4 blocks of that band each carry one bit,
#: so a block covers 8×8 pixels and block n (counted row by row) carries payload bit n mod 64.
BLOCK_PIXELS = 8
#: Columns that can be cut from the right edge without moving any block onto another bit: 64 blocks.
COLUMN_PERIOD = BLOCK_PIXELS * PAYLOAD_BITS
#: The most pixels :func:`detect` reads by default. Decoding costs about 0.7 s of one core per
#: megapixel (a Python loop over the blocks), so a 49-megapixel photo would take half a minute;
#: one megapixel holds 16 384 blocks, 256 readings of each bit, 16 times what a 256 px mark has.
DETECT_MAX_PIXELS = 1 << 20


def _window_width(width: int, max_pixels: int) -> int:
    """``width`` less whole :data:`COLUMN_PERIOD` steps, until :data:`MIN_SIDE` rows fit."""
    widest = max(max_pixels // MIN_SIDE, MIN_SIDE + COLUMN_PERIOD)
    if width <= widest:
        return width
    steps = -(-(width - widest) // COLUMN_PERIOD)
    return width - steps * COLUMN_PERIOD


def decoding_window(image: Image.Image, max_pixels: int = DETECT_MAX_PIXELS) -> Image.Image:
    """The top-left part of ``image``, about ``max_pixels`` large, that reads the same bits.

    Why a window and not a smaller copy: the mark lives on the 8×8 pixel grid, so any resize
    destroys it (a marked 2048×1536 JPEG reads 45–55 % of its header bits after scaling to 90, 75
    or 50 %, no better than an unmarked photo), while a window that keeps the grid and each
    block's bit (rows in steps of :data:`BLOCK_PIXELS`, columns cut in steps of
    :data:`COLUMN_PERIOD`) reads every block it keeps exactly as the whole picture does.
    """
    width, height = image.size
    if width * height <= max_pixels:
        return image
    keep_width = _window_width(width, max_pixels)
    rows = (max_pixels // keep_width) // BLOCK_PIXELS * BLOCK_PIXELS
    rows = min(height, max(rows, MIN_SIDE))
    return image.crop((0, 0, keep_width, rows))


def detect(
    image: Image.Image, instance_id: str, max_pixels: int = DETECT_MAX_PIXELS
) -> tuple[bool, float]:
    """Whether ``image`` carries this instance's watermark, and the share of its header bits that
    agree (tolerates the few flipped bits of a re-encoded copy, unlike :func:`decode`).

    Reads at most about ``max_pixels`` (:func:`decoding_window`), so a huge picture costs no
    more than a megapixel-sized one."""
    bits = decode_bits(decoding_window(image, max_pixels))
    if bits is None:
        return False, 0.0
    expected = Payload.for_ids(instance_id).bits()[:DETECT_BITS]
    agreement = float(np.mean(bits[:DETECT_BITS] == expected))
    return agreement >= DETECT_THRESHOLD, agreement
