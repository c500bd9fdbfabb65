"""``prepare``: real faces found and aligned, every skipped photo with its reason."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from gan_engine.data import FACE_TOO_SMALL, NO_FACE, NOT_TARGET, UNREADABLE, load_faces, prepare
from gan_engine.errors import DataError
from gan_engine.faces import FaceTools, distance
from tests.images import another_person, picture


@pytest.fixture(scope="module")
def tools() -> FaceTools:
    return FaceTools()


def test_astronaut_face_is_found_aligned_and_described(tmp_path, tools):
    from skimage import data

    (tmp_path / "photos").mkdir()
    Image.fromarray(data.astronaut()).save(tmp_path / "photos" / "eileen.png")
    (tmp_path / "photos" / "eileen.txt").write_text("in her space suit, smiling\n")
    manifest = prepare(tmp_path / "photos", tmp_path / "out", sizes=(64, 128), tools=tools)

    assert manifest["counts"]["used"] == 1
    (entry,) = manifest["entries"]
    assert entry["caption"] == "in her space suit, smiling"
    assert len(entry["descriptor"]) == 128
    left, top, right, bottom = entry["face_box"]
    # The astronaut's face, not the false detection near the bottom of the photo.
    assert 150 < (left + right) / 2 < 290 and 60 < (top + bottom) / 2 < 190
    crop = np.asarray(Image.open(tmp_path / "out" / entry["crops"]["128"]))
    assert crop.shape == (128, 128, 3)
    # Aligned: the crop still shows the same person, with the face in the middle.
    faces = tools.detect(crop)
    assert faces
    assert distance(faces[0].descriptor, np.array(entry["descriptor"])) < 0.4
    fl, ft, fr, fb = faces[0].box
    assert abs((fl + fr) / 2 - 64) < 16 and abs((ft + fb) / 2 - 64) < 24
    stored = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert stored["entries"][0]["id"] == entry["id"]


def test_every_skipped_photo_has_its_reason(tmp_path, tools, face_photos):
    from skimage import data

    folder = tmp_path / "photos"
    folder.mkdir()
    real = sorted(face_photos.glob("*.jpg"))[:3]
    for path in real:
        (folder / path.name).write_bytes(path.read_bytes())
    picture(320, 240, seed=3).save(folder / "landscape.jpg")  # no face
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    Image.fromarray(data.astronaut()).resize((256, 256)).save(folder / "tiny.png")  # face ~45 px
    another_person().save(folder / "stranger.png")

    manifest = prepare(folder, tmp_path / "out", sizes=(64,), min_face=60, tools=tools)
    reasons = {item["source"].rsplit("/", 1)[-1]: item["reason"] for item in manifest["skipped"]}
    assert reasons == {
        "landscape.jpg": NO_FACE,
        "broken.jpg": UNREADABLE,
        "tiny.png": FACE_TOO_SMALL,
        "stranger.png": NOT_TARGET,
    }
    assert all(item["detail"] for item in manifest["skipped"])
    assert manifest["counts"]["used"] == 3


def test_a_reference_photo_picks_the_person(tmp_path, tools, face_photos):
    folder = tmp_path / "photos"
    folder.mkdir()
    for path in sorted(face_photos.glob("*.jpg"))[:3]:
        (folder / path.name).write_bytes(path.read_bytes())
    another_person(variant=1).save(folder / "grace.jpg", quality=92)
    reference = tmp_path / "reference.png"
    another_person().save(reference)
    manifest = prepare(folder, tmp_path / "out", sizes=(64,), reference=reference, tools=tools)
    assert [e["source"].rsplit("/", 1)[-1] for e in manifest["entries"]] == ["grace.jpg"]
    assert [item["reason"] for item in manifest["skipped"]] == [NOT_TARGET] * 3
    assert manifest["reference"] == "reference photo reference.png"


def test_a_faceless_data_set_is_a_clear_error_with_a_manifest(tmp_path, tools):
    folder = tmp_path / "photos"
    folder.mkdir()
    for seed in range(2):
        picture(200, 150, seed=seed).save(folder / f"p{seed}.jpg")
    with pytest.raises(DataError, match=r"none of the 2 photos has a usable face.*no_face"):
        prepare(folder, tmp_path / "out", sizes=(64,), tools=tools)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert [item["reason"] for item in manifest["skipped"]] == [NO_FACE, NO_FACE]


def test_an_empty_folder_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="there are no photos"):
        prepare(tmp_path / "empty", tmp_path / "out")


def test_prepared_set_loads_at_training_resolution(prepared):
    faces = load_faces(prepared, 16)
    assert faces.images.shape[1:] == (3, 16, 16)
    assert faces.images.min() >= -1 and faces.images.max() <= 1
    assert all(caption for caption in faces.captions)
    with pytest.raises(DataError, match="needs prepare --sizes 128"):
        load_faces(prepared, 128)
