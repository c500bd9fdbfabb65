"""Landmark tracks for every frame: the sounds drive the mouth and jaw, a seeded idle life the rest.

Everything is expressed in units of the eye distance so that motion looks the same at any
resolution. The seed changes the blink times and the sway/breathing phases, nothing else, so
the same seed gives the same video.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from gan_engine.video import FPS
from gan_engine.video.audio import Features

#: Largest jaw drop, in eye distances (a wide-open "a").
MAX_JAW = 0.32
#: How much of a mouth already open in the photo silence closes: all of it (with the faint teeth of
#: :mod:`warp`, full closing gives the best worst-clip lip sync: BENCHMARKS.md, "Video").
CLOSE = 1.0
#: A living portrait's smile: how far the mouth corners rise, in eye distances.
SMILE = 0.07
#: A living portrait's glance aside: how far the features shift across the face, in eye distances.
TURN = 0.06
#: How far the eyes look aside at most, in eye distances (the iris moves about a tenth of the
#: eye's width).
GAZE = 0.05
#: Lower-jaw outline weights for landmarks 3..13 (chin = 8 moves fully).
_JAW = {
    3: 0.1,
    4: 0.3,
    5: 0.55,
    6: 0.8,
    7: 0.95,
    8: 1.0,
    9: 0.95,
    10: 0.8,
    11: 0.55,
    12: 0.3,
    13: 0.1,
}
_LOWER_LIP = [55, 56, 57, 58, 59, 65, 66, 67]
_UPPER_INNER = [61, 62, 63]
_CORNERS = [48, 54, 60, 64]
_BLINK_SHAPE = np.array([0.45, 0.9, 1.0, 0.7, 0.3])


@dataclass(frozen=True)
class Pose:
    """One frame: the 68 moved landmarks, the head's rigid motion, and the mouth's opening."""

    points: np.ndarray  # 68x2
    angle: float  # radians
    shift: np.ndarray  # 2
    opening: float  # jaw drop from the photo's own mouth, in pixels (negative: closing)
    pupils: np.ndarray | None = None  # 2x2: where the middle of each eye's opening goes (gaze)


def blink_curve(frames: int, rng: np.random.Generator, fps: int = FPS) -> np.ndarray:
    """Eyelid closure in [0, 1]: blinks every 2–6 s (people blink ~15 times a minute)."""
    curve = np.zeros(frames)
    time = rng.uniform(0.5, 3.0)
    while True:
        start = int(time * fps)
        if start >= frames:
            return curve
        end = min(frames, start + _BLINK_SHAPE.size)
        curve[start:end] = np.maximum(curve[start:end], _BLINK_SHAPE[: end - start])
        time += rng.uniform(2.0, 6.0)


def gaze_track(frames: int, rng: np.random.Generator, fps: int = FPS) -> np.ndarray:
    """Frames x 2 eye movements in eye distances (across, down): the eyes rest on a point for
    0.8-2.5 s, then jump (a saccade takes a frame or two) to another near the middle, half the
    time straight back to it, as eyes do in conversation and at rest."""
    track = np.zeros((frames, 2))
    here, time = np.zeros(2), 0.0
    while True:
        start = int(time * fps)
        if start >= frames:
            return track
        track[start:] = here
        if start > 0:  # the saccade: half-way in the first frame
            track[start] = (track[start - 1] + here) / 2
        if here.any() and rng.random() < 0.5:
            here = np.zeros(2)
        else:
            here = rng.uniform(-1, 1, 2) * [GAZE, GAZE / 3]
        time += rng.uniform(0.8, 2.5)


def _sway(
    frames: int, rng: np.random.Generator, periods: tuple[float, float], fps: int
) -> np.ndarray:
    """A smooth wander in [-1, 1]: two slow sines with random phases."""
    t = np.arange(frames) / fps
    phases = rng.uniform(0, 2 * np.pi, 2)
    return 0.6 * np.sin(2 * np.pi * t / periods[0] + phases[0]) + 0.4 * np.sin(
        2 * np.pi * t / periods[1] + phases[1]
    )


def ease(frames: int, start: float, end: float) -> np.ndarray:
    """0 before ``start`` and 1 after ``end`` (shares of the clip), a smooth S-curve between."""
    share = np.linspace(0.0, 1.0, frames) if frames > 1 else np.zeros(frames)
    t = np.clip((share - start) / max(end - start, 1e-6), 0.0, 1.0)
    return t * t * (3 - 2 * t)


class Motion:
    """Per-frame poses for one portrait, one recording's features and one seed.

    ``living``: the portrait at rest without a recording (a living portrait): on top of the
    blinks, sway and breathing, a slow glance aside and back (the face's features shift a little
    across the head outline, the nose most: a turn seen in 2-D) and a gentle closed-mouth smile
    that comes in the middle of the clip and stays.
    """

    def __init__(
        self,
        points: np.ndarray,
        feats: Features,
        seed: int = 0,
        fps: int = FPS,
        living: bool = False,
    ) -> None:
        self.base = np.asarray(points, dtype=np.float64)
        self.features = feats
        left_eye, right_eye = self.base[36:42].mean(0), self.base[42:48].mean(0)
        self.eye_distance = float(np.linalg.norm(right_eye - left_eye))
        self.across = (right_eye - left_eye) / self.eye_distance
        self.down = np.array([-self.across[1], self.across[0]])
        self.centre = self.base[27:36].mean(0)
        # A portrait may have its mouth open already: silence closes it, speech opens from shut.
        inner_gap = (self.base[[67, 66, 65]] - self.base[[61, 62, 63]]) @ self.down
        self.rest_gap = float(max(inner_gap.mean(), 0.0))
        rng = np.random.default_rng(seed)
        frames = feats.frames
        self.blink = blink_curve(frames, rng, fps)
        self.angle = np.deg2rad(1.2) * _sway(frames, rng, (7.0, 3.1), fps)
        self.drift = 0.025 * self.eye_distance * _sway(frames, rng, (9.0, 4.3), fps)
        breathing_phase = rng.uniform(0, 2 * np.pi)
        t = np.arange(frames) / fps
        self.breath = 0.012 * self.eye_distance * np.sin(2 * np.pi * t / 4.0 + breathing_phase)
        self.smile = SMILE * ease(frames, 0.35, 0.6) if living else np.zeros(frames)
        side = rng.choice([-1.0, 1.0])
        glance = ease(frames, 0.1, 0.3) - ease(frames, 0.7, 0.9)
        self.turn = side * TURN * glance if living else np.zeros(frames)
        gaze_rng = np.random.default_rng([seed, 1])  # its own stream: earlier draws stay put
        self.gaze = gaze_track(frames, gaze_rng, fps)
        if living:  # the eyes lead the glance aside
            self.gaze[:, 0] += side * GAZE * glance

    def __len__(self) -> int:
        return self.features.frames

    def pose(self, frame: int) -> Pose:
        feats, unit = self.features, self.eye_distance
        points = self.base.copy()
        # Mouth and jaw: open as the sounds say (vowels open, m/b/p close), width from the
        # spectral spread/rounding.
        # Speech opens as far as speech does, whatever the photo shows (a photo caught mid-laugh
        # does not make every vowel a shout).
        gap = MAX_JAW * unit * feats.openness[frame]
        opening = gap - CLOSE * self.rest_gap  # negative: close a mouth open in the photo
        for index, weight in _JAW.items():
            points[index] += weight * opening * self.down
        points[_LOWER_LIP] += opening * self.down
        points[_UPPER_INNER] -= 0.08 * max(opening, 0.0) * self.down
        points[_CORNERS] += 0.45 * opening * self.down
        mouth_centre = points[48:68].mean(0)
        width = 1.0 + 0.10 * feats.spread[frame] - 0.16 * feats.rounding[frame]
        along = (points[48:68] - mouth_centre) @ self.across
        points[48:68] += ((width - 1.0) * along)[:, None] * self.across[None, :]
        # A smile: the corners up and out, the lips stretched with them, cheeks and lower lids up.
        smile = self.smile[frame] * unit
        if smile:
            for corner, outward in ((48, -1.0), (60, -1.0), (54, 1.0), (64, 1.0)):
                points[corner] += smile * (0.5 * outward * self.across - self.down)
            points[[49, 59, 61, 67]] += smile * (-0.4 * self.across - 0.3 * self.down)
            points[[53, 55, 63, 65]] += smile * (0.4 * self.across - 0.3 * self.down)
            points[[1, 2, 3, 13, 14, 15]] -= 0.25 * smile * self.down
            points[[40, 41, 46, 47]] -= 0.12 * smile * self.down
        # A glance aside: the features shift across the head outline, the nose the most.
        turn = self.turn[frame] * unit
        if turn:
            points[17:68] += turn * self.across
            points[30:36] += 0.5 * turn * self.across
        # Eyelids: the upper lid comes down to the lower one, which rises a little.
        closure = self.blink[frame]
        for upper, lower in ((37, 41), (38, 40), (43, 47), (44, 46)):
            gap = self.base[lower] - self.base[upper]
            points[upper] += 0.9 * closure * gap
            points[lower] -= 0.1 * closure * gap
        # Gaze: the middle of each eye's opening moves with the eyes (less as the lids close).
        look = (self.gaze[frame] @ np.stack([self.across, self.down])) * unit * (1 - closure)
        pupils = np.stack([points[36:42].mean(0), points[42:48].mean(0)]) + look
        # Head: a slight rotation about the nose bridge, a drift and breathing.
        angle = float(self.angle[frame])
        shift = self.drift[frame] * self.across + self.breath[frame] * self.down
        points = rotate(points, self.centre, angle) + shift
        pupils = rotate(pupils, self.centre, angle) + shift
        return Pose(points=points, angle=angle, shift=shift, opening=float(opening), pupils=pupils)

    def __iter__(self) -> Iterator[Pose]:
        for frame in range(len(self)):
            yield self.pose(frame)


def rotate(points: np.ndarray, centre: np.ndarray, angle: float) -> np.ndarray:
    """Rotate points about ``centre`` by ``angle`` radians."""
    cos, sin = np.cos(angle), np.sin(angle)
    matrix = np.array([[cos, -sin], [sin, cos]])
    return (points - centre) @ matrix.T + centre
