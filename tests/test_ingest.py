"""Photos are normalised on the way in: no private metadata, three sizes, no duplicates."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models.signals import post_init
from PIL import Image

from memorial import config
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
        # The original keeps its own pixels, so it says which way is up; nothing else remains.
        assert dict(stored.getexif()) == ({0x0112: 6} if field is photo.image else {})
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


def _folders(root) -> set:
    return {p for p in root.rglob("*") if p.is_dir()} if root.exists() else set()


@pytest.fixture
def local_media(settings, tmp_path):
    """A local media folder of this test's own, built the way settings build it."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    settings.STORAGES = {**settings.STORAGES, "default": config.default_storage(root, {})}
    return root


@pytest.mark.django_db
def test_refused_and_duplicate_uploads_leave_no_empty_folders(family, local_media):
    data = images.jpeg(seed=30)
    _upload(family, images.jpeg(seed=31), name="first-photo.jpg")
    before = _folders(local_media)

    # Refused before anything is written: damaged, empty, a duplicate found at once.
    for refused in (data[: len(data) // 3], b"", images.jpeg(seed=31)):
        with pytest.raises(UploadRejected):
            _upload(family, refused, name="refused.jpg")

    # Two people send the same photo at once and the other one is stored first, while this
    # upload is writing its files: its row is refused as a duplicate after its files exist.
    racing = []

    def the_other_upload_wins(sender, instance, **kwargs):
        if instance.original_filename == "this-one.jpg" and not racing:
            racing.append(_upload(family, data, name="the-other.jpg"))

    post_init.connect(the_other_upload_wins, sender=Photo)
    try:
        with pytest.raises(UploadRejected) as caught:
            _upload(family, data, name="this-one.jpg")
    finally:
        post_init.disconnect(the_other_upload_wins, sender=Photo)

    assert caught.value.status == 409 and caught.value.existing == racing[0]
    new = _folders(local_media) - before
    assert new == {local_media / racing[0].image.name.rsplit("/", 1)[0]}  # the winner's own
    assert all(any(folder.iterdir()) for folder in _folders(local_media))
