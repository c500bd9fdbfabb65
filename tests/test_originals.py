"""The stored original is the family's own copy: the same pixels as uploaded (16 bits kept, a
JPEG's compressed scans byte for byte), with the private metadata (GPS, camera, comments, XMP,
text) removed; only the colour profile and the orientation stay."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import tifffile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo

from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import Photo
from tests import images

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def _upload(family, data: bytes, name: str) -> Photo:
    return ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile(name, data),
        user=family.owner,
        attested=True,
    )


def _stored(field) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


def _exif_with_gps(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # camera maker
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    if orientation:
        exif[ORIENTATION] = orientation
    return exif


def _scans(jpeg: bytes) -> bytes:
    """From the first start-of-scan marker to the end of image: the compressed pixels."""
    start = jpeg.index(b"\xff\xda")
    return jpeg[start : jpeg.index(b"\xff\xd9", len(jpeg) - 2) + 2]


def _segments(jpeg: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every segment before the first scan."""
    found, pos = [], 2
    while jpeg[pos + 1] != 0xDA:
        marker = jpeg[pos + 1]
        (length,) = struct.unpack(">H", jpeg[pos + 2 : pos + 4])
        found.append((marker, jpeg[pos + 4 : pos + 2 + length]))
        pos += 2 + length
    return found


def _riff_chunk(webp: bytes, kind: bytes) -> bytes:
    """The payload of the first chunk of `kind` in a WebP file."""
    pos = 12
    while True:
        (size,) = struct.unpack("<I", webp[pos + 4 : pos + 8])
        if webp[pos : pos + 4] == kind:
            return webp[pos + 8 : pos + 8 + size]
        pos += 8 + size + size % 2


@pytest.mark.django_db
@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_jpeg_scans_are_byte_identical_and_its_gps_is_gone(family, progressive):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = images.encode(
        images.picture(640, 480, seed=41),
        "JPEG",
        quality=90,
        progressive=progressive,
        exif=_exif_with_gps(orientation=6).tobytes(),
        icc_profile=srgb,
        comment=b"Rose at 52 Elm Street",
        xmp=b"<x:xmpmeta><dc:creator>Ben Whitfield</dc:creator></x:xmpmeta>",
    )
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the GPS went in

    photo = _upload(family, data + b"TRAILER:camera-serial-1234", "rose.jpg")
    kept = _stored(photo.image)

    assert photo.image.name.endswith(".jpg") and photo.content_type == "image/jpeg"
    assert _scans(kept) == _scans(data)  # the compressed pixels, untouched
    for private in (b"SecretCam", b"Elm Street", b"Ben Whitfield", b"camera-serial", b"xmpmeta"):
        assert private not in kept
    stored = Image.open(io.BytesIO(kept))
    assert dict(stored.getexif()) == {ORIENTATION: 6}  # shown upright, nothing else
    assert stored.info.get("icc_profile") == srgb  # colours as the scanner meant them
    assert np.array_equal(np.asarray(stored), np.asarray(Image.open(io.BytesIO(data))))
    assert (photo.width, photo.height) == (480, 640)
    assert photo.file_size == len(kept)
    assert not Image.open(photo.display.open("rb")).getexif()


@pytest.mark.django_db
def test_cmyk_jpeg_keeps_its_scans_and_adobe_colour_marker(family):
    cmyk = images.picture(96, 64, seed=42).convert("CMYK")
    data = images.encode(cmyk, "JPEG", quality=92)
    photo = _upload(family, data, "print.jpg")
    kept = _stored(photo.image)
    assert _scans(kept) == _scans(data)
    assert 0xEE in {marker for marker, _ in _segments(kept)}  # Adobe: how to read CMYK
    stored = Image.open(io.BytesIO(kept))
    assert stored.mode == "CMYK"
    assert np.array_equal(np.asarray(stored), np.asarray(Image.open(io.BytesIO(data))))


@pytest.mark.django_db
def test_16_bit_tiff_keeps_16_bits_and_identical_pixels(family):
    rng = np.random.default_rng(43)
    scan = rng.integers(0, 65536, size=(120, 90, 3), dtype=np.uint16)
    buffer = io.BytesIO()
    tifffile.imwrite(
        buffer,
        scan,
        photometric="rgb",
        description="Grandma Rose, 1962, 12 Elm Street",
        software="ScanSecret 9",
        metadata=None,
    )
    photo = _upload(family, buffer.getvalue(), "scan.tif")
    kept = _stored(photo.image)

    assert photo.image.name.endswith(".tif") and photo.content_type == "image/tiff"
    assert b"Elm Street" not in kept and b"ScanSecret" not in kept
    with tifffile.TiffFile(io.BytesIO(kept)) as tiff:
        page = tiff.pages.first
        assert page.bitspersample == 16
        samples = page.asarray()
    assert samples.dtype == np.uint16 and np.array_equal(samples, scan)
    assert (photo.width, photo.height) == (90, 120)
    display = Image.open(photo.display.open("rb"))
    assert display.format == "JPEG" and display.mode == "RGB" and display.size == (90, 120)


@pytest.mark.django_db
def test_16_bit_greyscale_png_keeps_its_samples_and_loses_its_text(family):
    levels = np.arange(0, 65536, 257, dtype=np.uint16).reshape(16, 16)
    source = Image.fromarray(levels)
    info = PngInfo()
    info.add_text("Author", "Ben Whitfield")
    info.add_itxt("Location", "12 Elm Street")
    data = images.encode(source, "PNG", pnginfo=info)

    photo = _upload(family, data, "scan16.png")
    kept = _stored(photo.image)

    assert b"Ben Whitfield" not in kept and b"Elm Street" not in kept
    stored = Image.open(io.BytesIO(kept))
    assert stored.mode == "I;16" and np.array_equal(np.asarray(stored), levels)
    assert not stored.text


@pytest.mark.django_db
def test_webp_keeps_its_bitstream_and_loses_its_exif(family):
    data = images.encode(
        images.picture(160, 120, seed=44), "WEBP", quality=80, exif=_exif_with_gps().tobytes()
    )
    assert b"SecretCam" in data
    photo = _upload(family, data, "phone.webp")
    kept = _stored(photo.image)
    assert photo.content_type == "image/webp" and b"SecretCam" not in kept
    assert _riff_chunk(kept, b"VP8 ") == _riff_chunk(data, b"VP8 ")  # the compressed picture
    stored = Image.open(io.BytesIO(kept))
    assert not stored.getexif()
    assert np.array_equal(np.asarray(stored), np.asarray(Image.open(io.BytesIO(data))))


@pytest.mark.django_db
def test_original_is_served_with_its_own_type(family, client_as):
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, np.zeros((8, 8), dtype=np.uint16), photometric="minisblack")
    photo = _upload(family, buffer.getvalue(), "scan.tif")
    response = client_as(family.viewer).get(photo.media_url("original") + "?download=1")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/tiff"
    assert 'filename="scan.tif"' in response["Content-Disposition"]
