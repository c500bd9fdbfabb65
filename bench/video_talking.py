#!/usr/bin/env python
"""Talking portrait: render speed, lip sync, identity and jitter on real faces and recordings.

A benchmark, not a test: it prints figures and asserts nothing. For each of the recordings in
``../shared/data/audio`` (LibriSpeech and VCTK clips), one LFW person's first photo (the i-th
person, sorted by name) is upscaled so that the head crop reaches the requested size (LFW photos
are 250 px) and rendered at each size. Speed is seconds of video per CPU-second, this process
plus the ffmpeg encoder child (``resource.getrusage``), preparation (landmarks, mesh) excluded
and reported apart; wall-clock too. Quality, on the 256 px render, measured on the decoded MP4:
lip sync (peak cross-correlation of the re-detected inner-lip gap with the RMS envelope, and its
lag in frames), identity (mean dlib descriptor distance of every 5th frame to the portrait) and
jitter (residual of eye corners and nose from a 5-frame moving average, px at 256 px).
With ``--provenance`` every video gets the visible mark, the watermark on every 12th frame and a
C2PA signature (an authority made for the run; the first embedding and signing, which load the
libraries, happen before timing), and the quality pass also reports the worst share of watermark
bits read back from the decoded MP4's watermarked frames.

    .venv/bin/python bench/video_talking.py                      # six clips, 256 and 512 px
    .venv/bin/python bench/video_talking.py --sizes 256 --clips 2
    .venv/bin/python bench/video_talking.py --provenance
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gan_engine.video import FPS, audio, measure  # noqa: E402
from gan_engine.video.output import write_video  # noqa: E402
from gan_engine.video.talking import TalkingPortrait  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def portrait_for(index: int, size: int) -> np.ndarray:
    people = sorted(p for p in (SHARED / "faces" / "lfw").iterdir() if p.is_dir())
    photo = sorted(people[index % len(people)].glob("*.jpg"))[0]
    image = Image.open(photo).convert("RGB")
    side = max(image.size[0], round(size * 1.05))
    return np.asarray(image.resize((side, side), Image.Resampling.LANCZOS)), photo.parent.name


def make_provenance():
    """A provenance with a fresh authority, its libraries loaded (model loading is excluded)."""
    from gan_engine.provenance import Provenance, SignerMaterial
    from gan_engine.provenance.authority import create_authority
    from gan_engine.video.stamp import stamp

    authority = create_authority("Benchmark instance")
    provenance = Provenance(
        instance_id="bench",
        instance_name="Benchmark instance",
        signer=SignerMaterial(chain=authority.chain, key=authority.sign_key),
        item_id="talking-1",
        model_version="",
        consent_id="consent-1",
    )
    warm = [np.zeros((256, 256, 3), np.uint8)] * 2
    with tempfile.TemporaryDirectory() as folder:
        write_video(warm, Path(folder) / "warm.mp4", provenance=provenance)
    list(stamp(iter(warm), provenance))
    return provenance


def watermark_bits(path: Path, provenance) -> float:
    """The worst share of payload bits read back from the decoded watermarked frames."""
    from gan_engine.provenance.watermark import Payload, bit_accuracy
    from gan_engine.video.stamp import is_watermarked

    payload = Payload.for_ids(provenance.instance_id, provenance.item_id)
    return min(
        bit_accuracy(Image.fromarray(frame), payload)
        for index, frame in enumerate(measure.read_frames(path))
        if is_watermarked(index)
    )


def run(clip: Path, index: int, size: int, work: Path, quality: bool, provenance=None) -> dict:
    pcm = audio.decode(clip)
    image, person = portrait_for(index, size)
    started = time.perf_counter()
    render = TalkingPortrait(image, pcm, seed=index, size=size,
                             min_side=256 if provenance is not None else 0)  # fmt: skip
    prepare_s = time.perf_counter() - started
    out = work / f"{clip.stem}-{size}.mp4"
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    write_video(render.frames(), out, audio=pcm, metadata={"kind": "talking_portrait"},
                provenance=provenance)  # fmt: skip
    cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - wall0
    seconds = len(render) / FPS
    row = {
        "clip": clip.name,
        "requested": size,
        "person": person,
        "size": f"{render.image.shape[1]}x{render.image.shape[0]}",
        "video_s": round(seconds, 2),
        "prepare_s": round(prepare_s, 2),
        "video_s_per_cpu_s": round(seconds / cpu, 2),
        "video_s_per_wall_s": round(seconds / wall, 2),
        "provenance": provenance is not None,
    }
    if quality:
        points, frame_size = measure.track(out)
        correlation, lag = measure.lip_sync(points, render.features.energy)
        row.update(
            lip_sync=round(correlation, 3),
            lag_frames=lag,
            identity=round(measure.identity(out, render.image), 3),
            jitter_px256=round(measure.jitter(points, frame_size), 3),
            face_found=round(float(np.isfinite(points[:, 0, 0]).mean()), 3),
        )
        if provenance is not None:
            row["watermark_bits_min"] = round(watermark_bits(out, provenance), 3)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="256,512")
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--provenance", action="store_true", help="mark, watermark and sign")
    parser.add_argument("--no-quality", action="store_true", help="speed only")
    args = parser.parse_args()
    provenance = make_provenance() if args.provenance else None
    clips = sorted((SHARED / "audio").glob("*.mp3"))[: args.clips]
    if not clips or not (SHARED / "faces" / "lfw").is_dir():
        raise SystemExit("needs ../shared/data/audio/*.mp3 and ../shared/data/faces/lfw")
    sizes = [int(size) for size in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="video-bench-") as work:
        for index, clip in enumerate(clips):
            for size in sizes:
                quality = size == min(sizes) and not args.no_quality
                row = run(clip, index, size, Path(work), quality, provenance)
                print(json.dumps(row), flush=True)
                rows.append(row)
    for size in sizes:
        group = [row for row in rows if row["requested"] == size]
        summary = {"size": size, "clips": len(group)}
        for key, worst in (("video_s_per_cpu_s", min), ("video_s_per_wall_s", min),
                           ("prepare_s", max), ("lip_sync", min), ("identity", max),
                           ("jitter_px256", max), ("watermark_bits_min", min)):  # fmt: skip
            values = [row[key] for row in group if key in row]
            if values:
                summary[f"mean_{key}"] = round(float(np.mean(values)), 3)
                summary[f"{worst.__name__}_{key}"] = round(float(worst(values)), 3)
        lags = [abs(row["lag_frames"]) for row in group if "lag_frames" in row]
        if lags:
            summary["max_abs_lag"] = max(lags)
        print("summary", json.dumps(summary), flush=True)
    # The encoder child's own peak is not shown: RUSAGE_CHILDREN's maxrss counts the forked copy
    # of this process before ffmpeg is exec'd, so it would only repeat this figure.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the render process (dlib models, mesh, one frame at a time): {peak:.0f} MB")


if __name__ == "__main__":
    main()
