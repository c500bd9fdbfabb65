"""Colourising: how close the colours come back, on people no benchmark trains or tunes on.

For each held-out LFW person (every 12th outside bench/gan_quality.py's six, as
bench/restore_quality.py picks them) with at least three colour photos: the first colour photo is
turned grey (OpenCV's luma), then coloured by gan_engine.restore.colourise

- by the general colouriser (the shipped weights, or ``--colouriser CHECKPOINT``);
- by the same with five hints taken from the true photo (a cheek, the hair, the clothes below
  the chin, the background left and right of the head);
- by the person's own colouriser: the general one fine-tuned for ``--personal-seconds`` CPU
  seconds on the person's other colour photos (up to ``--references``);
- by propagation alone from seeds (the person's colours from those photos and the five hints),
  the method the network replaced;

beside leaving it grey. Figures: mean CIEDE2000 ΔE against the true colours over the face
(inside the jaw and brows) and over the whole photo, ΔE at the hint points, colourfulness
(Hasler and Süsstrunk) beside the truth's, and seconds per photo.

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
from gan_engine.restore import colourise, person_colours, personal  # noqa: E402
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
    left = (0.06 * width, 0.2 * height)
    right = (0.94 * width, 0.2 * height)
    return [
        (int(np.clip(x, 0, width - 1)), int(np.clip(y, 0, height - 1)))
        for x, y in (cheek, hair, clothes, left, right)
    ]


def hints_from(truth: np.ndarray, points: list[tuple[int, int]]) -> tuple[Hint, ...]:
    pixels = to_uint8(truth)
    hints = []
    for x, y in points:
        patch = pixels[max(0, y - 1) : y + 2, max(0, x - 1) : x + 2].reshape(-1, 3)
        hints.append(Hint(x, y, tuple(int(v) for v in np.median(patch, axis=0))))
    return tuple(hints)


def checkpoint_network(path: Path):
    """A colouriser and its critic from a training checkpoint (gan_engine.restore.training), to
    measure them before they are exported."""
    import torch

    from bench.restore_validate import network_from
    from gan_engine.restore.networks import ColourCritic

    critic = ColourCritic()
    critic.load_state_dict(torch.load(path, map_location="cpu", weights_only=False)["critic"])
    return network_from(path, "colouriser"), critic.eval()


def personal_network(
    source: np.ndarray, others: list[np.ndarray], seconds: float, general=None, critic=None
):
    """The colouriser fine-tuned on the person (as found in ``source``) in ``others``, with how
    many photos taught it; the general one when none shows them."""
    person = personal.person_in(source, 1)
    crops = personal.face_crops(others, person) if person is not None else []
    if not len(crops):
        return None, 0
    import torch

    torch.manual_seed(0)
    return personal.personalise_colouriser(crops, seconds, general, critic), len(crops)


def run(
    lfw: Path, count: int, references: int, colouriser_path: Path | None, seconds: float
) -> dict:
    from skimage.color import deltaE_ciede2000, rgb2lab

    from gan_engine.restore import models

    general, critic = checkpoint_network(colouriser_path) if colouriser_path else (None, None)
    if general is not None:
        models.shipped.cache_clear()
    methods = ("grey", "general", "general_hints_5", "personal", "propagation_family_hints_5")
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
            start = time.process_time()
            if method == "grey":
                chroma = None
            elif method == "propagation_family_hints_5":
                chroma = colourise.chroma_for(source, hints, others, learned=False)
            elif method == "personal":
                own, taught = personal_network(source, others, seconds, general, critic)
                used.append(taught)
                chroma = colourise.chroma_for(source, colouriser=own or general, photos=taught)
            else:
                chroma = colourise.chroma_for(
                    source, hints if "hints" in method else (), colouriser=general
                )
            out = colourise.apply(source, chroma) if chroma is not None else source
            rows[method]["seconds"].append(time.process_time() - start)
            error = deltaE_ciede2000(rgb2lab(out), true_lab)
            rows[method]["face"].append(float(error[face].mean()))
            rows[method]["whole"].append(float(error.mean()))
            rows[method]["hint"].append(float(np.mean([error[y, x] for x, y in points])))
            rows[method]["colourful"].append(colourfulness(out))
        print(name, {m: round(r["whole"][-1], 2) for m, r in rows.items()}, flush=True)
    return {
        "people": people,
        "colouriser": str(colouriser_path) if colouriser_path else "shipped",
        "personal_seconds": seconds,
        "reference_photos_used": used,
        "truth_colourfulness": round(float(np.mean(truth_colourful)), 2),
        "methods": {
            method: {
                "delta_e_face": round(float(np.mean(r["face"])), 2),
                "delta_e_whole": round(float(np.mean(r["whole"])), 2),
                "delta_e_at_hint_points": round(float(np.mean(r["hint"])), 2),
                "colourfulness": round(float(np.mean(r["colourful"])), 2),
                "cpu_seconds_per_photo": round(float(np.mean(r["seconds"])), 2),
                "delta_e_whole_each": [round(v, 2) for v in r["whole"]],
            }
            for method, r in rows.items()
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lfw", type=Path, default=DEFAULT_LFW)
    parser.add_argument("--count", type=int, default=10, help="held-out people")
    parser.add_argument("--references", type=int, default=8, help="colour photos per person")
    parser.add_argument("--colouriser", type=Path, help="a training checkpoint to measure")
    parser.add_argument(
        "--personal-seconds", type=float, default=60.0, help="CPU seconds of fine-tuning"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, help="JSON file to write")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    report = run(args.lfw, args.count, args.references, args.colouriser, args.personal_seconds)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
