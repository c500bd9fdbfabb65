"""Quality figures of a talking-portrait video, measured on its decoded frames.

Lip sync: landmarks re-detected on every output frame give a mouth-opening series, which is
cross-correlated with a per-frame series (the recording's energy envelope, or the openness the
render was driven with: how faithfully and on time the video shows it). Against real people
talking, the primary figure, see ``bench/lipsync_real.py``. Identity: dlib descriptor distance of frames to the portrait. Jitter:
frame-to-frame wobble of points that should only drift smoothly (eye corners, nose), measured as
the residual from a 5-frame moving average and scaled to a 256 px frame.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import numpy as np

from gan_engine.video.audio import ffmpeg_exe
from gan_engine.video.face import find_faces

_STILL = [36, 39, 42, 45, 30, 27]


def probe(path: str | os.PathLike[str]) -> str:
    """ffmpeg's stream description of a file (``ffmpeg -i`` prints it on stderr)."""
    result = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", os.fspath(path)], capture_output=True, check=False
    )
    return result.stderr.decode(errors="replace")


def read_frames(path: str | os.PathLike[str]) -> Iterator[np.ndarray]:
    """Decode a video's frames as HxWx3 uint8 RGB (imageio-ffmpeg's reader; streamed)."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(os.fspath(path))
    meta = next(reader)
    width, height = meta["size"]
    for raw in reader:
        yield np.frombuffer(raw, np.uint8).reshape(height, width, 3)


def mouth_opening(points: np.ndarray) -> float:
    """Inner-lip gap over the eye distance."""
    gap = np.linalg.norm(points[[61, 62, 63]] - points[[67, 66, 65]], axis=1).mean()
    eyes = np.linalg.norm(points[42:48].mean(0) - points[36:42].mean(0))
    return float(gap / eyes)


def track(path: str | os.PathLike[str]) -> tuple[np.ndarray, tuple[int, int]]:
    """68 landmarks per frame (NaN where no face is found) and the frame size (w, h)."""
    series, size = [], (0, 0)
    for frame in read_frames(path):
        size = (frame.shape[1], frame.shape[0])
        faces = find_faces(frame)
        series.append(faces[0].points if faces else np.full((68, 2), np.nan))
    return np.array(series), size


def cross_correlation(a: np.ndarray, b: np.ndarray, max_lag: int = 5) -> tuple[float, int]:
    """Peak normalised cross-correlation of two series and its lag (positive: ``a`` late)."""
    n = min(a.size, b.size)
    a, b = a[:n], b[:n]
    best = (-1.0, 0)
    for lag in range(-max_lag, max_lag + 1):
        x, y = (a[lag:], b[: n - lag]) if lag >= 0 else (a[: n + lag], b[-lag:])
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() < 3 or x[ok].std() == 0 or y[ok].std() == 0:
            continue
        value = float(np.corrcoef(x[ok], y[ok])[0, 1])
        if value > best[0]:
            best = (value, lag)
    return best


def lip_sync(points: np.ndarray, drive: np.ndarray) -> tuple[float, int]:
    """Peak cross-correlation (and lag) of the measured mouth opening with a per-frame series:
    the energy envelope, or the openness the render was driven with."""
    opening = np.array([mouth_opening(p) if np.isfinite(p).all() else np.nan for p in points])
    return cross_correlation(opening, drive)


def jitter(points: np.ndarray, size: tuple[int, int]) -> float:
    """Mean residual of the still points from their 5-frame moving average, in px at 256 px."""
    still = points[:, _STILL]
    if len(still) < 6:
        return float("nan")
    kernel = np.ones(5) / 5
    residuals = []
    for index in range(still.shape[1]):
        for axis in range(2):
            series = still[:, index, axis]
            smooth = np.convolve(series, kernel, mode="valid")
            residuals.append(np.abs(series[2:-2] - smooth))
    return float(np.nanmean(residuals) * 256 / max(size))


def identity(path: str | os.PathLike[str], reference: np.ndarray, every: int = 5) -> float:
    """Mean dlib descriptor distance of every ``every``-th frame's face to the reference image's."""
    from gan_engine.faces import FaceTools, distance

    tools = FaceTools()
    wanted = tools.detect(reference)
    if not wanted:
        return float("nan")
    distances = []
    for index, frame in enumerate(read_frames(path)):
        if index % every:
            continue
        faces = tools.detect(frame)
        if faces:
            distances.append(distance(faces[0].descriptor, wanted[0].descriptor))
    return float(np.mean(distances)) if distances else float("nan")
