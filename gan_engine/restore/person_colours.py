"""The person's own colours, from the family's colour photos of them: skin, lips and hair.

In each colour photo the person's face is found (dlib; in a group photo, the face closest to the
person in the black-and-white photo by the identity descriptor, and only when it is close enough
to be the same person) with its 68 landmarks. Regions are cut from the landmarks: both cheeks and
the forehead (skin), the lips (outer outline less the open mouth), and a band above the forehead
(hair). Each region's colour is the median CIE Lab chroma (a, b) of its pixels over all the
photos, so one odd photo (a warm lamp, a faded print) moves it little. The same regions of the
black-and-white photo are then seeds for the colouriser (gan_engine.restore.colourise).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from gan_engine.restore.colour import tone_of
from gan_engine.restore.load import to_uint8

REGIONS = ("skin", "lips", "hair")
#: How far the regions reach, in units of the nose's length (landmark 27 to 30) along the face's
#: upward direction: the forehead from the brows up to FOREHEAD_TOP, the hair from HAIR_BOTTOM to
#: HAIR_TOP (a band, so a receding or a low hairline both leave most of it hair or skin alike).
FOREHEAD_TOP = 0.8
HAIR_BOTTOM = 1.6
HAIR_TOP = 2.2
#: Polygons shrunk toward their centre by this share, away from edges (eyes, nostrils, jaw).
SHRINK = 0.65
#: Faces farther apart than this (dlib's same-person threshold) are not the person.
SAME_PERSON = 0.6


@dataclass(frozen=True)
class PersonColours:
    """The median (a, b) of each region found, and how many photos gave them."""

    chroma: dict[str, tuple[float, float]]
    photos: int


@lru_cache(maxsize=1)
def _tools():
    from gan_engine.faces import FaceTools

    return FaceTools()


def _shrunk(points: np.ndarray, share: float = SHRINK) -> np.ndarray:
    centre = points.mean(axis=0)
    return centre + (points - centre) * share


def region_masks(shape: tuple[int, int], marks: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean masks (HxW) of skin, lips and hair from a face's 68 landmarks."""
    height, width = shape
    up = marks[27] - marks[8]
    up /= max(float(np.linalg.norm(up)), 1e-6)
    nose = float(np.linalg.norm(marks[30] - marks[27]))
    brows = marks[18:26]

    def band(low: float, high: float) -> np.ndarray:
        return np.concatenate([brows + up * nose * low, (brows + up * nose * high)[::-1]])

    polygons = {
        "skin": [
            _shrunk(marks[[1, 2, 3, 48, 31, 40, 41]]),
            _shrunk(marks[[15, 14, 13, 54, 35, 47, 46]]),
            _shrunk(band(0.3, FOREHEAD_TOP), 0.8),
            _shrunk(marks[[27, 31, 33, 35]], 0.7),  # the nose
            _shrunk(marks[[6, 7, 8, 9, 10, 57]], 0.6),  # the chin
        ],
        "lips": [marks[48:60]],
        "hair": [_shrunk(band(HAIR_BOTTOM, HAIR_TOP), 0.85)],
    }
    masks = {}
    for name, shapes in polygons.items():
        mask = np.zeros((height, width), np.uint8)
        for polygon in shapes:
            cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
        if name == "lips":  # an open mouth shows teeth, not lips
            cv2.fillPoly(mask, [np.round(marks[60:68]).astype(np.int32)], 0)
        masks[name] = mask.astype(bool)
    return masks


def find_person(image: np.ndarray, references: Sequence[np.ndarray] = ()):
    """The person's face in ``image`` (8-bit RGB) with its 68 landmarks, or None: the largest
    face, or with ``references`` (their descriptors) the face closest to them."""
    tools = _tools()
    faces = tools.detect(image)
    if not faces:
        return None
    if len(references):
        scored = [(min(_distance(f.descriptor, r) for r in references), f) for f in faces]
        best, face = min(scored, key=lambda pair: pair[0])
        if best > SAME_PERSON:
            return None
    else:
        face = faces[0]
    return face, tools.landmarks68(image, face.box)


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))


def from_photos(photos: Sequence[np.ndarray], person: np.ndarray | None) -> PersonColours:
    """The person's colours from HxWx3 float colour photos in [0, 1]. ``person``: the identity
    descriptor of the face to look for (None: the largest face in each photo). Black-and-white
    photos and photos without the person are passed over."""
    pooled: dict[str, list[np.ndarray]] = {name: [] for name in REGIONS}
    used = 0
    for photo in photos:
        if tone_of(photo).monochrome:
            continue
        pixels = to_uint8(photo)
        found = find_person(pixels, [person] if person is not None else ())
        if found is None:
            continue
        _face, marks = found
        lab = cv2.cvtColor(np.ascontiguousarray(photo, np.float32), cv2.COLOR_RGB2Lab)
        for name, mask in region_masks(photo.shape[:2], marks).items():
            if mask.sum() >= 4:
                pooled[name].append(lab[mask][:, 1:])
        used += 1
    chroma = {
        name: tuple(float(v) for v in np.median(np.concatenate(parts), axis=0))
        for name, parts in pooled.items()
        if parts
    }
    return PersonColours(chroma=chroma, photos=used)  # type: ignore[arg-type]
