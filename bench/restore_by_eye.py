#!/usr/bin/env python
"""Restoration by eye: old-looking photos beside what Memorial makes of them with the restore
form's defaults (repair scratches and dust, colour it if it is black-and-white or sepia, twice as
large, closeness to the original 30), and the true photo where one exists.

A page to look at, not a figure: ``restore_quality.py`` and ``restore_colour.py`` measure. The
photos:

* a real black-and-white photograph, scikit-image's "cameraman" (no colour truth exists);
* Grace Hopper's portrait (matplotlib's sample photo), toned sepia, faded and scratched;
* three people of ``restore_quality.held_out`` (LFW people no restoration network trained on),
  made old three ways: grey and scratched; sepia, faded and grainy; grey, halved and scratched.
  Without LFW (``--lfw`` missing), scikit-image's astronaut stands in, made old the first way.

Writes one JPEG (rows: the photos; columns: as given, restored, the truth) and a JSON with what
each restoration did, how long it took, and how much fine detail each picture holds.

    .venv/bin/python bench/restore_by_eye.py --out docs/images/restore-by-eye.jpg \\
        --json bench/results/restore/restore_by_eye.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gan_quality import DEFAULT_LFW  # noqa: E402
from bench.restore_quality import held_out  # noqa: E402
from gan_engine.restore import Options, damage, restore  # noqa: E402
from gan_engine.restore.load import load_photo, to_uint8  # noqa: E402

#: What the restore form sends by default (memorial/restoration/forms.py).
FORM_DEFAULTS = Options(repair=True, colourise=True, enlarge=2, fidelity=0.3)
CELL = 300  # px: the height of every picture on the page
SEPIA = np.array([1.0, 0.84, 0.62], np.float32)  # a brown print's tint of white (R, G, B)


def grey(image: np.ndarray) -> np.ndarray:
    return np.repeat(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)


def sepia_faded(image: np.ndarray, seed: int) -> np.ndarray:
    """Toned brown, its contrast faded toward the paper, film grain the same in every channel."""
    rng = np.random.default_rng(seed)
    toned = (0.18 + 0.72 * grey(image)) * SEPIA
    grain = rng.normal(0.0, 0.03, image.shape[:2]).astype(np.float32)[..., None]
    return np.clip(toned + grain, 0, 1)


def scratched(image: np.ndarray, seed: int) -> np.ndarray:
    return damage.scratch(image, seed=seed)[0]


def halved(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    return cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA)


AGEING: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "grey, scratched": lambda image, seed: scratched(grey(image), seed),
    "sepia, faded, grainy": lambda image, seed: scratched(sepia_faded(image, seed), seed + 1),
    "grey, halved, scratched": lambda image, seed: scratched(halved(grey(image)), seed),
}


def examples(lfw: Path) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    """(title, the photo as given, the true photo or None)."""
    import matplotlib.cbook
    from skimage import data

    camera = grey(np.repeat(data.camera()[..., None], 3, axis=2).astype(np.float32) / 255)
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as file:
        hopper = cv2.imdecode(np.frombuffer(file.read(), np.uint8), cv2.IMREAD_COLOR)
    hopper = cv2.cvtColor(hopper, cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    rows = [
        ("a real black-and-white photograph", camera, None),
        (
            "Grace Hopper: sepia, faded, scratched",
            AGEING["sepia, faded, grainy"](hopper, 7),
            hopper,
        ),
    ]
    if lfw.is_dir():
        for (way, age), path in zip(AGEING.items(), held_out(lfw, 3), strict=True):
            truth = load_photo(path)
            rows.append((f"{path.parent.name.replace('_', ' ')}: {way}", age(truth, 11), truth))
    else:
        astronaut = data.astronaut().astype(np.float32) / 255
        rows.append(
            ("astronaut: grey, scratched", AGEING["grey, scratched"](astronaut, 11), astronaut)
        )
    return rows


def sharpness(image: np.ndarray, size: tuple[int, int]) -> float:
    """Fine detail left in a picture at ``size`` (width, height): the variance of the Laplacian
    of its lightness, lightly blurred first so that single-pixel grain counts less."""
    lightness = cv2.cvtColor(to_uint8(image), cv2.COLOR_RGB2GRAY)
    lightness = cv2.resize(lightness, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    return float(cv2.Laplacian(cv2.GaussianBlur(lightness, (0, 0), 1.0), cv2.CV_32F).var())


def cell(image: np.ndarray | None, label: str) -> np.ndarray:
    """One picture at the page's height (white where there is none) with its label above."""
    if image is None:
        picture = np.full((CELL, CELL, 3), 255, np.uint8)
    else:
        height, width = image.shape[:2]
        size = (max(1, round(width * CELL / height)), CELL)
        picture = cv2.resize(to_uint8(image), size, interpolation=cv2.INTER_AREA)
    band = np.full((28, picture.shape[1], 3), 255, np.uint8)
    cv2.putText(band, label, (4, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (40, 40, 40), 1, cv2.LINE_AA)
    return np.vstack([band, picture])


def page(rows: list[tuple[str, list[np.ndarray]]]) -> np.ndarray:
    """The rows one under another, each under its title, the cells side by side."""
    width = max(sum(c.shape[1] for c in cells) + 8 * (len(cells) - 1) for _, cells in rows)
    lines = []
    for title, cells in rows:
        band = np.full((34, width, 3), 255, np.uint8)
        cv2.putText(band, title, (4, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.65, (0, 0, 0), 1, cv2.LINE_AA)
        gap = np.full((cells[0].shape[0], 8, 3), 255, np.uint8)
        line = np.hstack([part for c in cells for part in (c, gap)][:-1])
        pad = np.full((line.shape[0], width - line.shape[1], 3), 255, np.uint8)
        lines += [band, np.hstack([line, pad]), np.full((16, width, 3), 255, np.uint8)]
    return np.vstack(lines[:-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lfw", type=Path, default=DEFAULT_LFW)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "restore-by-eye.jpg")
    parser.add_argument("--json", type=Path, help="what each restoration did, and its time")
    args = parser.parse_args()
    grid, report = [], []
    for title, given, truth in examples(args.lfw):
        start, cpu = time.perf_counter(), time.process_time()
        result = restore(given, FORM_DEFAULTS)
        size = (truth if truth is not None else given).shape[1::-1]
        report.append(
            {
                "photo": title,
                "size_given": list(given.shape[:2]),
                "size_restored": list(result.image.shape[:2]),
                "tone": result.tone.tone,
                "sharpness": {  # at the true photo's size (the given one's without a truth)
                    name: round(sharpness(picture, size), 1)
                    for name, picture in (
                        ("given", given),
                        ("restored", result.image),
                        ("truth", truth),
                    )
                    if picture is not None
                },
                "actions": result.actions,
                "notes": result.notes,
                "wall_seconds": round(time.perf_counter() - start, 2),
                "cpu_seconds": round(time.process_time() - cpu, 2),
            }
        )
        print(json.dumps(report[-1]), flush=True)
        cells = [cell(given, "as given"), cell(result.image, "restored (the form's defaults)")]
        cells.append(cell(truth, "the true photo" if truth is not None else "(no truth exists)"))
        grid.append((title, cells))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    picture = cv2.cvtColor(page(grid), cv2.COLOR_RGB2BGR)
    cv2.imwrite(str(args.out), picture, [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"wrote {args.out}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
