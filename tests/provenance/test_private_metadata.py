"""Generated files say what they are, not whom they show: the PNG text chunks keep the
"AI-generated" label and the engine version but never a caption or a source file's name, and the
C2PA manifest and the invisible watermark still verify."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from gan_engine import __version__
from gan_engine.outputs import PERSONAL_KEYS, write_image
from gan_engine.provenance import Provenance, verify
from gan_engine.provenance.authority import Authority
from gan_engine.provenance.watermark import Payload, decode
from tests.provenance.conftest import faces

CAPTION = "Grandma Rose laughing at her 80th birthday"


def test_generated_png_keeps_the_label_and_drops_personal_text(
    tmp_path: Path, provenance: Provenance, authority: Authority
) -> None:
    path = write_image(
        faces(1)[0].resize((64, 64)),
        tmp_path / "seed-000007.png",
        kind="generated",
        metadata={"seed": 7, "caption": CAPTION, "source": "rose-birthday.jpg", "model_step": 12},
        provenance=provenance,
    )
    data = path.read_bytes()
    assert CAPTION.encode() not in data and b"rose-birthday" not in data
    text = Image.open(path).text
    assert text["memorial:label"] == "AI-generated"
    assert text["memorial:generated"] == "true" and text["memorial:kind"] == "generated"
    assert text["Software"] == f"memorial gan_engine {__version__}"
    assert text["memorial:seed"] == "7" and text["memorial:model_step"] == "12"
    assert not {key.split(":", 1)[-1] for key in text} & PERSONAL_KEYS

    result = verify(data, "image/png", authority.ca_cert)
    assert result.verdict == "trusted", result.failures
    assert CAPTION not in repr(result.manifest)
    assert decode(Image.open(path)) == Payload.for_ids("instance-test", "job-1/seed-7")


def test_crops_keep_no_source_name(tmp_path: Path) -> None:
    path = write_image(
        faces(1)[0].resize((32, 32)),
        tmp_path / "crop.png",
        kind="crop",
        metadata={"source": "june-whitfield-1975.jpg"},
    )
    assert b"june-whitfield" not in path.read_bytes()
    assert Image.open(path).text["memorial:generated"] == "false"
