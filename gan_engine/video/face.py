"""The portrait's 68 landmarks (dlib, ``face_recognition_models``), found once per render.

The 68-point model gives the jaw line, both lips (outer and inner contour) and the eyelids, which
is exactly what the motion model moves. Detection reuses :class:`gan_engine.faces.FaceTools`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from gan_engine.errors import EngineError
from gan_engine.faces import FaceTools

MIN_FACE = 64
#: Nose tip offset from the eye midpoint, as a fraction of the eye distance, above which the
#: face is treated as a profile (the mesh warp needs both eyes and both mouth corners).
MAX_TURN = 0.35


#: A mouth is covered (a hand, a mask, a scarf) when both its vertical texture, relative to the
#: eyes', and the dark line between its lips, relative to the eyes' contrast, are this faint
#: (398 LFW faces: 1 uncovered mouth refused, 95 % of painted hands; BENCHMARKS.md "Covered mouths").
COVERED_TEXTURE = 0.46
COVERED_LIP_LINE = 0.12


class PortraitError(EngineError):
    """The portrait cannot be animated (no face, too small, a profile, no such face index)."""


@dataclass(frozen=True)
class Portrait:
    """One face's 68 landmarks (x, y) in image pixels and its detection box."""

    points: np.ndarray  # 68x2 float
    box: tuple[int, int, int, int]

    @property
    def size(self) -> int:
        left, top, right, bottom = self.box
        return int(min(right - left, bottom - top))


@cache
def face_tools() -> FaceTools:
    """One process-wide :class:`FaceTools` (its dlib models are read-only)."""
    return FaceTools()


def landmarks(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """68 landmarks inside a known face box."""
    return face_tools().landmarks68(image, box)


def find_faces(image: np.ndarray) -> list[Portrait]:
    """Every face with its 68 landmarks, largest first."""
    faces = face_tools().detect(image, describe=False)
    return [Portrait(points=landmarks(image, face.box), box=face.box) for face in faces]


def turn(points: np.ndarray) -> float:
    """How far the head is turned: nose-tip offset from the eye midpoint over the eye distance."""
    left_eye, right_eye = points[36:42].mean(axis=0), points[42:48].mean(axis=0)
    eye_distance = float(np.linalg.norm(right_eye - left_eye)) + 1e-6
    middle = (left_eye + right_eye) / 2
    axis = (right_eye - left_eye) / eye_distance
    return abs(float(np.dot(points[30] - middle, axis))) / eye_distance


def portrait_face(image: np.ndarray, index: int = 0) -> Portrait:
    """The face to animate: the largest by default, or ``index`` in size order; checked usable."""
    faces = find_faces(image)
    if not faces:
        raise PortraitError("no face was found in the portrait")
    if not 0 <= index < len(faces):
        raise PortraitError(f"the portrait has {len(faces)} face(s); face {index} does not exist")
    face = faces[index]
    if face.size < MIN_FACE:
        raise PortraitError(f"the face is {face.size} px; at least {MIN_FACE} px is needed")
    if turn(face.points) > MAX_TURN:
        raise PortraitError(
            "the face is turned away (a profile view); a frontal portrait is needed"
        )
    return face


def _box(gray: np.ndarray, points: np.ndarray, pad: float) -> np.ndarray:
    (left, top), (right, bottom) = points.min(axis=0) - pad, points.max(axis=0) + pad
    height, width = gray.shape
    return gray[
        int(np.clip(top, 0, height)) : int(np.clip(bottom, 0, height)),
        int(np.clip(left, 0, width)) : int(np.clip(right, 0, width)),
    ]


def mouth_texture(image: np.ndarray, points: np.ndarray) -> tuple[float, float]:
    """(texture, lip line) of the mouth, both relative to the eyes of the same face.

    Why: the 68-point model places lips even on a hand or a mask, so the geometry alone cannot
    tell; the picture can. Real lips have strong horizontal edges (lip contours, the gap between
    them) and a dark line where they meet; a hand or cloth over them is smooth. Measuring both
    against the eyes (always visible when the face was found) makes them independent of the
    photo's contrast, size and colour (black-and-white photos work the same)."""
    gray = np.asarray(image, dtype=np.float64)
    if gray.ndim == 3:
        gray = gray[..., :3] @ np.array([0.299, 0.587, 0.114])
    eye_distance = float(np.linalg.norm(points[42:48].mean(0) - points[36:42].mean(0)))
    pad = 0.1 * eye_distance
    mouth, eyes = _box(gray, points[48:60], pad), _box(gray, points[36:48], pad)
    if min(mouth.shape) < 3 or min(eyes.shape) < 3:
        return 0.0, 0.0  # the mouth lies outside the picture: nothing there to animate
    eye_texture = float(np.abs(np.diff(eyes, axis=0)).mean()) + 1e-6
    texture = float(np.abs(np.diff(mouth, axis=0)).mean()) / eye_texture
    centre, quarter = mouth.shape[1] // 2, max(1, mouth.shape[1] // 4)
    rows = mouth[:, centre - quarter : centre + quarter].mean(axis=1)
    line = float(np.median(rows) - rows.min()) / (float(eyes.max() - eyes.min()) + 1e-6)
    return texture, line


def mouth_covered(image: np.ndarray, points: np.ndarray) -> bool:
    """True when something (a hand, a mask) hides the mouth the portrait would move."""
    texture, line = mouth_texture(image, points)
    return texture < COVERED_TEXTURE and line < COVERED_LIP_LINE
