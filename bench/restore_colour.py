"""Colourising: how close the colours come back, on people no benchmark trains or tunes on.

For each held-out LFW person (every 12th outside bench/gan_quality.py's six, as
bench/restore_quality.py picks them) with at least three colour photos: the first colour photo is
turned grey (OpenCV's luma), then coloured by gan_engine.restore.colourise

- with the person's other colour photos as reference (up to ``--references``), no hints;
- with three hints taken from the true photo (a cheek, the hair, the clothes below the chin),
  no reference photos;
- with both;

beside leaving it grey and beside one fixed average skin tone (the same face regions seeded with
the median skin colour of gan_quality's six people, which the colouriser was tuned on). Figures:
mean CIEDE2000 ΔE against the true colours over the face (inside the jaw and brows) and over the
whole photo, ΔE at the hint points, colourfulness (Hasler and Süsstrunk) beside the truth's, and
seconds per photo.

    .venv/bin/python bench/restore_colour.py --out bench/results/restore/restore_colour.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gan_quality import DEFAULT_LFW, PEOPLE  # noqa: E402
from bench.restore_quality import STEP  # noqa: E402
from gan_engine.restore import colourise, person_colours  # noqa: E402
from gan_engine.restore.colour import tone_of  # noqa: E402
from gan_engine.restore.colourise import Hint  # noqa: E402
from gan_engine.restore.load import load_photo, to_uint8  # noqa: E402


def colour_photos(person: Path) -> list[Path]:
    return [p for p in sorted(person.glob("*.jpg")) if not tone_of(load_photo(p)).monochrome]


def held_out(lfw: Path, count: int) -> list[tuple[str, list[Path]]]:
    people = [p for p in sorted(lfw.iterdir()) if p.is_dir() and p.name not in PEOPLE]
    chosen = []
    for person in people[::STEP]:
        photos = colour_photos(person)
        if len(photos) >= 3:
            chosen.append((person.name, photos))
        if len(chosen) == count:
            break
    return chosen


def grey(image: np.ndarray) -> np.ndarray:
    return np.repeat(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)


def colourfulness(image: np.ndarray) -> float:
    """Hasler and Süsstrunk (2003) on 8-bit RGB."""
    r, g, b = (to_uint8(image).astype(np.float64)[..., i] for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def hint_points(marks: np.ndarray, shape: tuple[int, int]) -> list[tuple[int, int]]:
    """A cheek, the hair above the forehead and the clothes below the chin, from 68 landmarks."""
    height, width = shape
    masks = person_colours.region_masks(shape, marks)
    cheek = np.round(marks[[1, 2, 3, 48, 31, 40, 41]].mean(axis=0))
    hair_y, hair_x = np.nonzero(masks["hair"])
    hair = (np.median(hair_x), np.median(hair_y)) if hair_x.size else (marks[27][0], 2)
    chin = marks[8]
    clothes = (chin[0], chin[1] + 0.6 * (height - chin[1]))
    return [
        (int(np.clip(x, 0, width - 1)), int(np.clip(y, 0, height - 1)))
        for x, y in (cheek, hair, clothes)
    ]


def hints_from(truth: np.ndarray, points: list[tuple[int, int]]) -> tuple[Hint, ...]:
    pixels = to_uint8(truth)
    hints = []
    for x, y in points:
        patch = pixels[max(0, y - 1) : y + 2, max(0, x - 1) : x + 2].reshape(-1, 3)
        hints.append(Hint(x, y, tuple(int(v) for v in np.median(patch, axis=0))))
    return tuple(hints)


def fixed_skin_tone(lfw: Path) -> tuple[float, float]:
    """The median skin chroma of gan_quality's six people (three photos each)."""
    skins = []
    for name in PEOPLE:
        photos = [load_photo(p) for p in colour_photos(lfw / name)[:3]]
        found = person_colours.from_photos(photos, None)
        if "skin" in found.chroma:
            skins.append(found.chroma["skin"])
    a, b = np.median(np.array(skins), axis=0)
    return float(a), float(b)


def with_fixed_tone(image: np.ndarray, tone: tuple[float, float]) -> np.ndarray:
    """The colouriser with skin, lips and hair all seeded with one fixed tone."""
    found = person_colours.find_person(to_uint8(image))
    if found is None:
        return image.copy()
    masks = person_colours.region_masks(image.shape[:2], found[1])
    seeded = masks["skin"] | masks["lips"] | masks["hair"]
    seeds = np.zeros((*image.shape[:2], 2), np.float32)
    seeds[seeded] = tone
    lightness = colourise.lab(image)[..., 0]
    ab = colourise.propagate(lightness, seeded, seeds)
    return colourise.apply(image, colourise.Chroma(ab=ab, hints=0, photos=0, regions=()))


def run(lfw: Path, count: int, references: int) -> dict:
    from skimage.color import deltaE_ciede2000, rgb2lab

    tone = fixed_skin_tone(lfw)
    methods = ("grey", "fixed_skin_tone", "family_photos", "hints_3", "family_photos_and_hints_3")
    rows: dict[str, dict[str, list[float]]] = {
        m: {"face": [], "whole": [], "hint": [], "colourful": [], "seconds": []} for m in methods
    }
    truth_colourful, people, used = [], [], []
    for name, paths in held_out(lfw, count):
        truth = load_photo(paths[0])
        found = person_colours.find_person(to_uint8(truth))
        if found is None:
            continue
        marks = found[1]
        outline = np.round(marks[list(range(27))]).astype(np.int32)
        face = np.zeros(truth.shape[:2], np.uint8)
        cv2.fillPoly(face, [cv2.convexHull(outline)], 1)
        face = face.astype(bool)
        points = hint_points(marks, truth.shape[:2])
        hints = hints_from(truth, points)
        others = [load_photo(p) for p in paths[1 : 1 + references]]
        source = grey(truth)
        true_lab = rgb2lab(truth)
        people.append(name)
        truth_colourful.append(colourfulness(truth))
        for method in methods:
            start = time.perf_counter()
            if method == "grey":
                out, chroma = source, None
            elif method == "fixed_skin_tone":
                out, chroma = with_fixed_tone(source, tone), None
            else:
                chroma = colourise.chroma_for(
                    source,
                    hints if "hints" in method else (),
                    others if "family" in method else (),
                )
                out = colourise.apply(source, chroma) if chroma is not None else source
            rows[method]["seconds"].append(time.perf_counter() - start)
            error = deltaE_ciede2000(rgb2lab(out), true_lab)
            rows[method]["face"].append(float(error[face].mean()))
            rows[method]["whole"].append(float(error.mean()))
            rows[method]["hint"].append(float(np.mean([error[y, x] for x, y in points])))
            rows[method]["colourful"].append(colourfulness(out))
            if method == "family_photos":
                used.append(chroma.photos if chroma is not None else 0)
        print(name, {m: round(r["face"][-1], 2) for m, r in rows.items()}, flush=True)
    return {
        "people": people,
        "reference_photos_used": used,
        "fixed_skin_tone_ab": [round(v, 2) for v in tone],
        "truth_colourfulness": round(float(np.mean(truth_colourful)), 2),
        "methods": {
            method: {
                "delta_e_face": round(float(np.mean(r["face"])), 2),
                "delta_e_whole": round(float(np.mean(r["whole"])), 2),
                "delta_e_at_hint_points": round(float(np.mean(r["hint"])), 2),
                "colourfulness": round(float(np.mean(r["colourful"])), 2),
                "seconds_per_photo": round(float(np.mean(r["seconds"])), 2),
            }
            for method, r in rows.items()
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lfw", type=Path, default=DEFAULT_LFW)
    parser.add_argument("--count", type=int, default=10, help="held-out people")
    parser.add_argument("--references", type=int, default=5, help="colour photos per person")
    parser.add_argument("--out", type=Path, help="JSON file to write")
    args = parser.parse_args()
    report = run(args.lfw, args.count, args.references)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
