#!/usr/bin/env python
"""Bad input for the talking portrait: how well the checks tell it from good input.

- **Speech or not** (:func:`gan_engine.video.speech.judge`): every real recording in
  ``../shared/data/audio`` (LibriSpeech, VCTK) and the sound of every clip in
  ``../shared/data/talk`` (HDTF), whole and cut to its first 1, 2 and 3 s, must pass as speech;
  made music (a held chord, melodies of plucked notes, kick-and-snare beats, at several tempi and
  seeds), noise (hiss, rumble) and silence must not, at 1, 2 and 5 s (``tests/video/sounds.py``).
- **Covered mouths** (:func:`gan_engine.video.face.mouth_covered`): faces from
  ``../shared/data/faces/lfw-general`` as they are (must stay usable) and with a hand or a mask
  painted over the mouth (``tests/video/covers.py``; refused when no face is found any more or
  the mouth reads as covered).

A benchmark, not a test: it prints figures and writes JSON, and asserts nothing.

    .venv/bin/python bench/bad_input.py --faces 400
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gan_engine.video import audio, speech  # noqa: E402
from gan_engine.video.face import find_faces, mouth_covered, mouth_texture  # noqa: E402
from tests.video import covers, sounds  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results" / "bad_input"


def speech_figures() -> dict:
    real = sorted((SHARED / "audio").glob("*.mp3")) + sorted((SHARED / "talk").glob("*.mp4"))
    rows, seconds, spent = [], 0.0, 0.0
    for clip in real:
        pcm = audio.decode(clip, max_seconds=60, trim=True)
        for cut in (1.0, 2.0, 3.0, None):
            part = pcm if cut is None else pcm[: int(cut * audio.SAMPLE_RATE)]
            start = time.process_time()
            judgement = speech.judge(part)
            spent += time.process_time() - start
            seconds += part.size / audio.SAMPLE_RATE
            rows.append({"clip": clip.name, "seconds": cut or "whole", **judgement.as_dict()})
    made = []
    for length in (1.0, 2.0, 5.0):
        signals = {"chord": sounds.chord(length), "hiss": sounds.white_noise(length),
                   "rumble": sounds.brown_noise(length), "silence": sounds.silence(length)}  # fmt: skip
        for seed in range(3):
            for note in (0.2, 0.3, 0.5):
                signals[f"melody-{note}s-{seed}"] = sounds.melody(length, note=note, seed=seed)
            for beat in (0.25, 0.4, 0.6):
                signals[f"drums-{beat}s-{seed}"] = sounds.drums(length, beat=beat, seed=seed)
        for name, pcm in signals.items():
            made.append({"signal": name, "seconds": length, **speech.judge(pcm).as_dict()})
    passed = [r["verdict"] == "speech" for r in rows]
    refused = [r["verdict"] != "speech" for r in made]
    return {
        "real_speech_passed": f"{sum(passed)}/{len(passed)}",
        "made_refused": f"{sum(refused)}/{len(refused)}",
        "made_refused_by_length": {
            f"{length:g}s": f"{sum(r['verdict'] != 'speech' for r in made if r['seconds'] == length)}"
            f"/{sum(r['seconds'] == length for r in made)}"
            for length in (1.0, 2.0, 5.0)
        },
        "real_speech_extremes": {
            key: [min(r[key] for r in rows), max(r[key] for r in rows)]
            for key in ("flatness", "voiced", "steady_pitch", "rhythm", "level_spread")
        },
        "cpu_ms_per_second_of_sound": round(1000 * spent / max(seconds, 1e-9), 2),
        "real": rows,
        "made": made,
    }


def cover_figures(count: int) -> dict:
    photos = sorted((SHARED / "faces" / "lfw-general").glob("*/*.jpg"))
    photos = photos[:: max(1, len(photos) // count)][:count]
    real_covered, found = 0, 0
    refused = {"hand": 0, "mask": 0}
    as_no_face = {"hand": 0, "mask": 0}
    textures = []
    for path in photos:
        picture = Image.open(path).convert("RGB")
        image = np.asarray(picture)
        faces = find_faces(image)
        if not faces:
            continue
        found += 1
        textures.append(mouth_texture(image, faces[0].points))
        real_covered += mouth_covered(image, faces[0].points)
        for kind in refused:
            painted = np.asarray(getattr(covers, kind)(picture))
            again = find_faces(painted)
            if not again:
                as_no_face[kind] += 1
            refused[kind] += not again or mouth_covered(painted, again[0].points)
    return {
        "faces": found,
        "uncovered_refused": real_covered,
        "hand_refused": refused["hand"],
        "hand_refused_as_no_face": as_no_face["hand"],
        "mask_refused": refused["mask"],
        "mask_refused_as_no_face": as_no_face["mask"],
        "uncovered_texture_line_p1": np.percentile(textures, 1, axis=0).round(3).tolist(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=400)
    parser.add_argument("--name", default="checks")
    args = parser.parse_args()
    figures = {"speech": speech_figures(), "covers": cover_figures(args.faces)}
    summary = {k: v for k, v in figures["speech"].items() if k not in ("real", "made")}
    print(json.dumps({"speech": summary, "covers": figures["covers"]}, indent=1))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{datetime.date.today()}-{args.name}.json"
    out.write_text(json.dumps(figures, indent=1))
    print(out)


if __name__ == "__main__":
    main()
