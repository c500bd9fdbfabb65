#!/usr/bin/env python
"""A page of talking-portrait frames to judge by eye: rest, an open "ah", a closed "mmm", a
spread "ee" and a blink, then a living portrait at rest, glancing aside and smiling, on
scikit-image's astronaut (a photo that may be shown, unlike the
benchmark's real clips) speaking synthesised sounds (see ``tests/video/conftest.py``).

    .venv/bin/python bench/talking_frames.py            # writes docs/images/talking-frames.png
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gan_engine.video import FPS  # noqa: E402
from gan_engine.video.talking import TalkingPortrait  # noqa: E402
from tests.images import packaged_face  # noqa: E402
from tests.video.conftest import utterance  # noqa: E402

PARTS = (("", 0.6), ("ah", 0.8), ("mm", 0.8), ("ee", 0.8), ("", 4.0))
TARGET = ROOT / "docs" / "images" / "talking-frames.png"


def middle(name: str) -> int:
    """The frame in the middle of the first ``name`` part ("" : the first silence)."""
    start = 0.0
    for part, seconds in PARTS:
        if part == name:
            return round((start + seconds / 2) * FPS)
        start += seconds
    raise ValueError(name)


def main() -> None:
    portrait = np.asarray(packaged_face(side=400))
    render = TalkingPortrait(portrait, utterance(*PARTS), seed=3, size=256)
    frames = list(render.frames())
    blink = int(np.argmax(render.motion.blink))
    picks = [("at rest", middle("")), ('"ah"', middle("ah")), ('"mmm"', middle("mm")),
             ('"ee"', middle("ee")), ("a blink", blink)]  # fmt: skip
    living = TalkingPortrait(portrait, np.zeros(6 * 16_000, np.float32), seed=3, size=256,
                             living=True)  # fmt: skip
    still = list(living.frames())
    glance = int(np.argmax(np.abs(living.motion.turn)))
    rows = [
        [(frames[index], f"{label} (frame {index})") for label, index in picks],
        [(still[0], "living: at rest"), (still[glance], "living: a glance"),
         (still[-1], "living: the smile")],
    ]  # fmt: skip
    tile = frames[0].shape[0]
    page = Image.new("RGB", (tile * len(picks), 2 * (tile + 20)), "white")
    draw = ImageDraw.Draw(page)
    for row, cells in enumerate(rows):
        for column, (frame, label) in enumerate(cells):
            top = row * (tile + 20)
            page.paste(Image.fromarray(frame), (column * tile, top))
            draw.text((column * tile + 6, top + tile + 4), label, fill="black")
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    page.save(TARGET, optimize=True)
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
