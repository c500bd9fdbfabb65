"""A restored photo is labelled for what it is: "AI-restored" in its text chunks and its visible
mark, the invisible watermark, and a C2PA manifest that names the original as its ingredient and
lists what was done to it."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
from PIL import Image

from gan_engine.outputs import write_image
from gan_engine.provenance import Ingredient, Provenance, verify
from gan_engine.provenance.authority import Authority
from gan_engine.provenance.mark import burn_mark
from gan_engine.provenance.watermark import BAND_ROWS, Payload, decode
from tests.provenance.conftest import faces


def test_restored_png_names_its_original_and_the_actions(
    tmp_path: Path, provenance: Provenance, authority: Authority
) -> None:
    original = faces(1)[0]
    buffer = io.BytesIO()
    original.save(buffer, "JPEG", quality=92)
    restoring = dataclasses.replace(
        provenance,
        model_version="",
        consent_id="",
        ingredient=Ingredient(buffer.getvalue(), "image/jpeg", "Original photo"),
        actions=("org.memorial.repaired", "c2pa.resized"),
    )
    path = write_image(
        original.resize((256, 256)),
        tmp_path / "restored.png",
        kind="restored",
        provenance=restoring,
    )
    data = path.read_bytes()
    assert Image.open(path).text["memorial:label"] == "AI-restored"

    result = verify(data, "image/png", authority.ca_cert)
    assert result.verdict == "trusted", result.failures
    ingredients = result.manifest["ingredients"]
    assert [i["title"] for i in ingredients] == ["Original photo"]
    assert ingredients[0]["relationship"] == "parentOf"
    actions = next(
        a for a in result.manifest["assertions"] if a["label"].startswith("c2pa.actions")
    )
    names = [a["action"] for a in actions["data"]["actions"]]
    assert names == ["c2pa.opened", "org.memorial.repaired", "c2pa.resized"]
    assert (
        "compositeWithTrainedAlgorithmicMedia" in actions["data"]["actions"][1]["digitalSourceType"]
    )
    assert decode(Image.open(path)) == Payload.for_ids("instance-test", "job-1/seed-7")


def test_a_big_restored_array_is_marked_in_bands_and_still_reads_back(
    tmp_path: Path, provenance: Provenance, authority: Authority
) -> None:
    """The path a big scan takes (an 8-bit array, marked in bands of rows): the watermark reads
    back whole, the C2PA manifest verifies, the visible mark is drawn, the caller's array is left
    as it was."""
    face = faces(1)[0].convert("RGB")
    pixels = np.asarray(face.resize((320, BAND_ROWS + 200), Image.Resampling.LANCZOS)).copy()
    before = pixels.copy()
    restoring = dataclasses.replace(provenance, actions=("c2pa.resized",))
    path = write_image(pixels, tmp_path / "restored.png", kind="restored", provenance=restoring)
    assert np.array_equal(pixels, before)
    with Image.open(path) as picture:
        assert decode(picture) == Payload.for_ids("instance-test", "job-1/seed-7")
        written = np.asarray(picture.convert("RGB"), np.int16)
    result = verify(path.read_bytes(), "image/png", authority.ca_cert)
    assert result.verdict == "trusted", result.failures
    marked = np.asarray(burn_mark(Image.fromarray(before), "bottom-right", "AI-restored"))
    corner = (slice(-40, None), slice(-120, None))  # the plate: as burn_mark draws it
    assert np.abs(written[corner] - before[corner]).mean() > 20  # drawn
    assert np.abs(written[corner] - marked[corner]).mean() < 3
    outside = np.ones(written.shape[:2], bool)
    outside[corner] = False
    assert np.abs(written - before)[outside].mean() < 3  # the watermark itself is invisible
