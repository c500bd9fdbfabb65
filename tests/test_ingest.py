"""Photos are normalised on the way in: upright, sRGB, no metadata, three sizes, no duplicates."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from memorial.memorials.ingest import UploadRejected, clean_filename, ingest_photo
from memorial.memorials.models import Photo
from tests import images


def _upload(family, data: bytes, name: str = "photo.jpg", **kwargs):
    return ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile(name, data),
        user=family.owner,
        attested=kwargs.pop("attested", True),
        **kwargs,
    )


@pytest.mark.django_db
def test_upload_stores_three_sizes_without_metadata(family):
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS
    photo = _upload(family, images.jpeg(seed=1, width=640, height=480, exif=exif.tobytes()))
    for field in (photo.image, photo.display, photo.thumbnail):
        with field.open("rb") as handle:
            stored = Image.open(io.BytesIO(handle.read()))
        assert stored.mode == "RGB"
        assert not stored.getexif()
        assert "icc_profile" not in stored.info and "xmp" not in stored.info
    assert (photo.width, photo.height) == (480, 640)  # EXIF orientation applied


@pytest.mark.django_db
def test_same_bytes_twice_is_a_duplicate_naming_the_first(family):
    data = images.jpeg(seed=2)
    first = _upload(family, data, name="rose-1962.jpg")
    with pytest.raises(UploadRejected) as caught:
        _upload(family, data, name="copy.jpg")
    assert caught.value.status == 409
    assert "rose-1962.jpg" in caught.value.message
    assert caught.value.existing == first
    assert Photo.objects.count() == 1


def test_file_names_lose_folders_control_characters_and_excess_length():
    assert clean_filename("../../etc/passwd.jpg") == "passwd.jpg"
    assert clean_filename("C:\\Users\\me\\rose.jpg") == "rose.jpg"
    assert clean_filename("ro\x00se\x1b.jpg") == "rose.jpg"
    long = clean_filename("a" * 300 + ".jpeg")
    assert len(long) <= 200 and long.endswith(".jpeg")
