"""A restored photo is labelled for what it is: "AI-restored" in its text chunks and its visible
mark, the invisible watermark, and a C2PA manifest that names the original as its ingredient and
lists what was done to it."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from PIL import Image

from gan_engine.outputs import write_image
from gan_engine.provenance import Ingredient, Provenance, verify
from gan_engine.provenance.authority import Authority
from gan_engine.provenance.watermark import Payload, decode
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
