#!/usr/bin/env python
"""How well the invisible watermark survives: bit accuracy per attack and engine resolution.

A benchmark, not a test (tests/provenance asserts the ≥ 95 % floor). For each of ``--photos`` real
LFW faces (drawn pictures when ../shared/data is absent) resized to each engine resolution, the
picture goes through write_image's provenance steps (upscale to 256 px if smaller, DWT-DCT-SVD
embedding of the 64-bit payload, the visible mark) and then each attack; the table gives the
mean and the worst bit accuracy over the photos, and how often the payload decoded exactly.

    .venv/bin/python bench/provenance_robustness.py --photos 20
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gan_engine.provenance.mark import burn_mark
from gan_engine.provenance.watermark import Payload, bit_accuracy, decode, embed
from tests.images import picture, real_face_photos


def jpeg(quality: int) -> Callable[[Image.Image], Image.Image]:
    def attack(image: Image.Image) -> Image.Image:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")

    return attack


def halve(image: Image.Image) -> Image.Image:
    half = image.resize((image.width // 2, image.height // 2), Image.Resampling.BILINEAR)
    return half.resize(image.size, Image.Resampling.BILINEAR)


ATTACKS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "none": lambda image: image,
    "jpeg q85": jpeg(85),
    "jpeg q70": jpeg(70),
    "jpeg q50": jpeg(50),
    "halve + restore": halve,
    "halve + restore, then jpeg q85": lambda image: jpeg(85)(halve(image)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--sizes", default="64,128,256")
    args = parser.parse_args()
    real = real_face_photos(args.photos)
    faces = (
        [Image.open(p).convert("RGB") for p in real]
        if real
        else [picture(250, 250, seed) for seed in range(args.photos)]
    )
    print(f"{len(faces)} {'real LFW' if real else 'drawn'} photos; payload 64 bits")
    payload = Payload.for_ids("bench-instance", "bench-item")
    print("| size | attack | mean bits | worst bits | exact payload |")
    print("| --- | --- | --- | --- | --- |")
    started = time.perf_counter()
    for side in (int(s) for s in args.sizes.split(",")):
        marked = [
            burn_mark(embed(face.resize((side, side), Image.Resampling.LANCZOS), payload))
            for face in faces
        ]
        for name, attack in ATTACKS.items():
            attacked = [attack(image) for image in marked]
            scores = np.array([bit_accuracy(image, payload) for image in attacked])
            exact = sum(decode(image) == payload for image in attacked)
            print(
                f"| {side} px | {name} | {scores.mean():.1%} | {scores.min():.1%} "
                f"| {exact}/{len(attacked)} |"
            )
    print(f"({time.perf_counter() - started:.0f} s)")
    cost_of_write_image(faces)


def cost_of_write_image(faces: list[Image.Image]) -> None:
    """Time and size of write_image with full provenance (watermark, mark, C2PA) per 64 px image."""
    import tempfile

    from gan_engine.outputs import write_image
    from gan_engine.provenance import Provenance, SignerMaterial
    from gan_engine.provenance.authority import create_authority

    authority = create_authority("bench")
    provenance = Provenance(
        "bench-instance", "bench", SignerMaterial(authority.chain, authority.sign_key), "item"
    )
    with tempfile.TemporaryDirectory() as folder:
        for label, given in (("plain", None), ("with provenance", provenance)):
            started, sizes = time.perf_counter(), []
            for index, face in enumerate(faces):
                path = Path(folder) / f"{index}.png"
                small = face.resize((64, 64))
                write_image(small, path, kind="generated", provenance=given)
                sizes.append(path.stat().st_size)
            seconds = (time.perf_counter() - started) / len(faces)
            print(
                f"write_image {label}: {seconds * 1000:.0f} ms per 64 px image, "
                f"{np.mean(sizes) / 1024:.0f} KiB per file"
            )


if __name__ == "__main__":
    main()
