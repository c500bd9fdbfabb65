#!/usr/bin/env python
"""Talking portrait: render speed, lip sync, identity and jitter on real faces and recordings.

A benchmark, not a test: it prints figures and asserts nothing. For each of the recordings in
``../shared/data/audio`` (LibriSpeech and VCTK clips), one LFW person's first photo (the i-th
person, sorted by name, skipping photos without a usable frontal face) is upscaled so that the
head crop reaches the requested size (LFW photos are 250 px) and rendered at each size. Speed
is seconds of video per CPU-second, this process plus the ffmpeg encoder child
(``resource.getrusage``), preparation (landmarks, mesh) excluded and reported apart; wall-clock
too. Quality, on the 256 px render, measured on the decoded MP4:
lip sync (peak cross-correlation of the re-detected inner-lip gap with the RMS envelope, and its
lag in frames), identity (mean dlib descriptor distance of every 5th frame to the portrait) and
jitter (residual of eye corners and nose from a 5-frame moving average, px at 256 px).
With ``--provenance`` every video gets the visible mark, the watermark on every 12th frame and a
C2PA signature (an authority made for the run; the first embedding and signing, which load the
libraries, happen before timing), and the quality pass also reports the worst share of watermark
bits read back from the decoded MP4's watermarked frames. ``--people-offset 6`` pairs the clips
with six other people (a held-out set for choices made on the first six). ``encoder_peak_mb`` is
the ffmpeg encoder's own peak resident memory (see :class:`EncoderPeak`).

    .venv/bin/python bench/video_talking.py                      # six clips, 256 and 512 px
    .venv/bin/python bench/video_talking.py --sizes 256 --clips 2
    .venv/bin/python bench/video_talking.py --provenance
    .venv/bin/python bench/video_talking.py --sizes 256 --people-offset 6   # held-out faces
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
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


def _upscaled(photo: Path, size: int) -> np.ndarray:
    image = Image.open(photo).convert("RGB")
    side = max(image.size[0], round(size * 1.05))
    return np.asarray(image.resize((side, side), Image.Resampling.LANCZOS))


def people(offset: int, count: int) -> list[Path]:
    """The first photos of ``count`` LFW people from the ``offset``-th (sorted by name). People
    whose photo has no usable frontal face are skipped: a held-out set should measure the
    renderer, not stop on a profile photo that it rightly refuses."""
    from gan_engine.video.face import PortraitError, portrait_face

    folders = sorted(p for p in (SHARED / "faces" / "lfw").iterdir() if p.is_dir())
    chosen: list[Path] = []
    for folder in folders[offset:] + folders[:offset]:
        photo = sorted(folder.glob("*.jpg"))[0]
        try:
            portrait_face(_upscaled(photo, 256))
        except PortraitError:
            continue
        chosen.append(photo)
        if len(chosen) == count:
            break
    return chosen


class EncoderPeak:
    """Peak resident memory of this process's ffmpeg children, from ``/proc/<pid>/status``.

    Why polled: ``RUSAGE_CHILDREN`` (and ``os.wait4``) report ``max(child, this process at the
    fork)`` on Linux — the pre-exec copy counts — so they cannot tell the encoder's own peak.
    ``VmHWM`` is the kernel's high-water mark of the exec'd ffmpeg alone and only grows, so a
    poll every 20 ms misses at most the growth in the encoder's last 20 ms (flushing, muxing).
    """

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.02):
            for child in me.children():
                try:
                    status = Path(f"/proc/{child.pid}/status").read_text()
                except OSError:  # exited between listing and reading
                    continue
                if "ffmpeg" not in status.split("\n", 1)[0]:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))

    def __enter__(self) -> EncoderPeak:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


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


def run(
    clip: Path, index: int, photo: Path, size: int, work: Path, quality: bool, provenance=None
) -> dict:
    pcm = audio.decode(clip)
    image, person = _upscaled(photo, size), photo.parent.name
    started = time.perf_counter()
    render = TalkingPortrait(image, pcm, seed=index, size=size,
                             min_side=256 if provenance is not None else 0)  # fmt: skip
    prepare_s = time.perf_counter() - started
    out = work / f"{clip.stem}-{size}.mp4"
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    with EncoderPeak() as encoder:
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
        "encoder_peak_mb": round(encoder.peak_kb / 1024, 1),
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
    parser.add_argument("--people-offset", type=int, default=0,
                        help="start at the N-th LFW person (6: a held-out set of faces)")  # fmt: skip
    args = parser.parse_args()
    provenance = make_provenance() if args.provenance else None
    clips = sorted((SHARED / "audio").glob("*.mp3"))[: args.clips]
    if not clips or not (SHARED / "faces" / "lfw").is_dir():
        raise SystemExit("needs ../shared/data/audio/*.mp3 and ../shared/data/faces/lfw")
    photos = people(args.people_offset, len(clips))
    sizes = [int(size) for size in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="video-bench-") as work:
        for index, clip in enumerate(clips):
            for size in sizes:
                quality = size == min(sizes) and not args.no_quality
                row = run(clip, index, photos[index], size, Path(work), quality, provenance)
                print(json.dumps(row), flush=True)
                rows.append(row)
    for size in sizes:
        group = [row for row in rows if row["requested"] == size]
        summary = {"size": size, "clips": len(group)}
        for key, worst in (("video_s_per_cpu_s", min), ("video_s_per_wall_s", min),
                           ("prepare_s", max), ("lip_sync", min), ("identity", max),
                           ("jitter_px256", max), ("watermark_bits_min", min),
                           ("encoder_peak_mb", max)):  # fmt: skip
            values = [row[key] for row in group if key in row]
            if values:
                summary[f"mean_{key}"] = round(float(np.mean(values)), 3)
                summary[f"{worst.__name__}_{key}"] = round(float(worst(values)), 3)
        lags = [abs(row["lag_frames"]) for row in group if "lag_frames" in row]
        if lags:
            summary["max_abs_lag"] = max(lags)
        print("summary", json.dumps(summary), flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the render process (dlib models, mesh, one frame at a time): {peak:.0f} MB")


if __name__ == "__main__":
    main()
