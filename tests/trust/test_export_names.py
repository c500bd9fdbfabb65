"""Export file names a person can read: date, a few words of the caption, a counter; unique
without regard to case and valid on Windows, macOS and Linux; the ids stay in the manifest."""

from __future__ import annotations

import datetime
import io
import json
import re
import zipfile

import pytest

from memorial.memorials.export_names import Namer, caption_words
from tests.factories import add_photo

#: Characters or names Windows refuses; macOS and Linux refuse "/" and NUL, which are in here.
WINDOWS_BAD = re.compile(r'[<>:"\\|?*\x00-\x1f]')
RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\.|$)", re.I)


def _portable(path: str) -> bool:
    parts = path.split("/")
    return all(
        part
        and not WINDOWS_BAD.search(part)
        and not RESERVED.match(part)
        and part[-1] not in ". "
        and len(part.encode()) <= 255
        for part in parts
    )


def test_caption_words_keep_letters_and_drop_what_a_disk_refuses():
    assert caption_words("Birthday party, red sweater!") == "birthday party red sweater"
    assert caption_words('a/b\\c:d*e?f"g<h>i|j') == "a b c d e f"
    assert caption_words("在生日聚会上开怀大笑") == "在生日聚会上开怀大笑"
    assert caption_words("...") == ""
    assert len(caption_words("word " * 100)) <= 48


def test_names_are_unique_without_case_and_carry_date_label_and_counter():
    namer = Namer()
    day = datetime.date(1998, 7, 4)
    first = namer.path("photos", "Birthday party, red sweater", ".jpg", date=day, fallback="photo")
    again = namer.path("photos", "birthday party red SWEATER", ".jpg", date=day, fallback="photo")
    assert first == "photos/1998-07-04 birthday party red sweater 01.jpg"
    assert again == "photos/1998-07-04 birthday party red sweater 02.jpg"
    assert namer.path("photos", "", ".jpg", fallback="photo") == "photos/photo 01.jpg"
    assert namer.path("photos", "CON", ".jpg", fallback="photo") == "photos/con 01.jpg"
    ai = namer.path("AI-generated", "smiling", ".png", fallback="photo", label="(AI-generated)")
    assert ai == "AI-generated/smiling (AI-generated) 01.png"


@pytest.mark.django_db
def test_the_zip_reads_as_an_album_on_any_computer(family, client_as):
    day = datetime.date(1998, 7, 4)
    same = [
        add_photo(family, seed, "Birthday party: red sweater?", taken_on=day) for seed in (41, 42)
    ]
    nameless = add_photo(family, 43, "")
    odd = add_photo(family, 44, 'CON. <a/b> "quoted" ... ')
    response = client_as(family.owner).get(f"/m/{family.memorial.pk}/export/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    manifest = json.loads(archive.read("manifest.json"))
    paths = {f["id"]: f["path"] for f in manifest["files"]}
    assert paths[str(same[0].pk)] == "photos/1998-07-04 birthday party red sweater 01.jpg"
    assert paths[str(same[1].pk)] == "photos/1998-07-04 birthday party red sweater 02.jpg"
    assert paths[str(nameless.pk)] == "photos/photo 01.jpg"
    assert paths[str(odd.pk)] == "photos/con a b quoted 01.jpg"
    names = [n for n in archive.namelist() if n != "manifest.json"]
    assert len({n.casefold() for n in names}) == len(names) == 4
    assert all(_portable(n) for n in names)
    assert all(f["sha256"] and f["id"] for f in manifest["files"])  # ids and hashes kept


@pytest.mark.django_db
def test_ai_made_videos_share_the_ai_folder_with_the_label_in_the_name(family, client_as):
    from django.core.files.base import ContentFile

    from memorial.videos.models import Video, VideoKind

    film = Video(
        memorial=family.memorial,
        kind=VideoKind.FILM,
        duration=1,
        width=64,
        height=64,
        parameters={"captions": ["smiling", "at the seaside"]},
    )
    film.file.save("video.mp4", ContentFile(b"not really an mp4"), save=False)
    film.save()
    talking = Video(
        memorial=family.memorial, kind=VideoKind.TALKING, duration=1, width=64, height=64
    )
    talking.file.save("video.mp4", ContentFile(b"nor this"), save=False)
    talking.save()
    response = client_as(family.owner).get(f"/m/{family.memorial.pk}/export/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    paths = {f["id"]: f["path"] for f in json.loads(archive.read("manifest.json"))["files"]}
    assert paths[str(film.pk)] == "AI-generated/smiling at the seaside (AI-generated) 01.mp4"
    assert paths[str(talking.pk)] == "AI-generated/talking portrait (AI-generated) 01.mp4"
