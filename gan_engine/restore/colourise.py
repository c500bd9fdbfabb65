"""Colour a black-and-white or sepia photo, keeping its own lightness.

The colours come from Memorial's colouriser (gan_engine.restore.networks.Colouriser, trained
adversarially on LFW's general corpus, or the person's own when it was fine-tuned on the
family's colour photos: gan_engine.restore.personal): it predicts CIE Lab chroma (a, b) from the
lightness on a small copy (colour varies slowly), and the photo's own L is kept exactly.

Colour hints a person gives (a point and a colour) correct it where the network is wrong: the
difference between the hint and the network's colour is *propagated* by the optimisation of
Levin, Lischinski & Weiss, "Colorization using Optimization" (SIGGRAPH 2004): every pixel is
asked to be the weighted average of its eight neighbours, weighted by how alike their lightness
is (so a correction flows along a cheek and stops at the edge of a collar), the hinted area
keeps its given colour, and far from any hint the correction fades to nothing
(``NEUTRAL_PULL``). That is one sparse linear system, solved directly (scipy's SuperLU) on a copy
of at most ``WORK_PIXELS``; the chroma is then enlarged to the photo's size, so a big scan costs a
bounded solve plus one pass in bands of rows.

``learned=False`` is the propagation alone from seeds (the hints, and the person's skin, lips
and hair colours from their colour photos: gan_engine.restore.person_colours): the method the
network replaced, kept for the benchmark (bench/restore_colour.py) that measures them side by
side. With no seed it guesses nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import scipy.sparse as sparse
import scipy.sparse.linalg as sparse_linalg

from gan_engine.errors import DataError
from gan_engine.restore import person_colours
from gan_engine.restore.load import to_uint8

#: The largest copy the solve works on (pixels): about 3.5 s on one core of the shared machine.
WORK_PIXELS = 250_000
#: How strongly every pixel leans toward no colour, next to its neighbours' average (0: Levin's
#: original, where seeds colour the whole photo), for a working copy ``PULL_SIDE`` px on its short
#: side; scaled by the square of the side so the fade reaches the same share of any photo. Tuned
#: on bench/gan_quality.py's six people (0, 1e-5, 1e-4, 1e-3: 1e-4 gave the lowest whole-photo
#: ΔE, 9.0 against 15.2 without a pull and 11.8 for the grey photo).
NEUTRAL_PULL = 1e-4
PULL_SIDE = 250
#: A hint colours up to this share of the working copy's short side around its point...
HINT_RADIUS = 0.06
#: ... among the pixels joined to it whose lightness (0-100) is within this of the point's.
HINT_LIGHTNESS = 6.0
#: Steps of reducing the chroma of a pixel outside the sRGB gamut before it is made neutral.
GAMUT_STEPS = 8
BAND_ROWS = 256


@dataclass(frozen=True)
class Hint:
    """A colour the person knows at one point (x, y in the photo's pixels)."""

    x: int
    y: int
    rgb: tuple[int, int, int]


@dataclass
class Chroma:
    """The (a, b) field of the photo at the working size, and where its colours came from."""

    ab: np.ndarray  # h x w x 2 float32
    hints: int
    photos: int
    regions: tuple[str, ...]


def work_shape(height: int, width: int) -> tuple[int, int]:
    scale = min(1.0, (WORK_PIXELS / (height * width)) ** 0.5)
    return max(1, round(height * scale)), max(1, round(width * scale))


def lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(image, np.float32), cv2.COLOR_RGB2Lab)


def rgb_to_ab(rgb: tuple[int, int, int]) -> tuple[float, float]:
    pixel = np.array([[rgb]], np.float32) / 255.0
    _lightness, a, b = lab(pixel)[0, 0]
    return float(a), float(b)


def chroma_for(
    image: np.ndarray,
    hints: Sequence[Hint] = (),
    references: Sequence[np.ndarray] = (),
    colouriser=None,
    learned: bool = True,
    photos: int = 0,
) -> Chroma | None:
    """The colours for a monochrome HxWx3 float image in [0, 1].

    ``learned``: by the colouriser (``colouriser``: a network, None for the shipped one; its
    ``photos``: how many of the person's photos taught it), corrected by ``hints``. Otherwise
    propagated from seeds (``hints`` and the person's colours in ``references``), or None when
    there is no seed."""
    height, width = image.shape[:2]
    for hint in hints:
        if not (0 <= hint.x < width and 0 <= hint.y < height):
            raise DataError(
                f"A colour hint at ({hint.x}, {hint.y}) is outside this {width}×{height} photo."
            )
    work_h, work_w = work_shape(height, width)
    small = (
        cv2.resize(image, (work_w, work_h), interpolation=cv2.INTER_AREA)
        if (work_h, work_w) != (height, width)
        else image
    )
    lightness = lab(small)[..., 0]
    seeded = np.zeros((work_h, work_w), bool)
    seeds = np.zeros((work_h, work_w, 2), np.float32)
    if learned:
        from gan_engine.restore.models import predict_chroma

        predicted = predict_chroma(lightness, colouriser)
        _seed_hints(hints, lightness, (height, width), seeded, seeds)
        if seeded.any():  # the hints' corrections, spread along like lightness, fading away
            predicted += propagate(
                lightness, seeded, np.where(seeded[..., None], seeds - predicted, 0)
            )
        return Chroma(ab=predicted, hints=len(hints), photos=photos, regions=())
    regions: tuple[str, ...] = ()
    if references:
        photos, regions = _person_seeds(small, references, seeded, seeds)
    _seed_hints(hints, lightness, (height, width), seeded, seeds)
    if not seeded.any():
        return None
    ab = propagate(lightness, seeded, seeds)
    return Chroma(ab=ab, hints=len(hints), photos=photos, regions=regions)


def _seed_hints(
    hints: Sequence[Hint],
    lightness: np.ndarray,
    shape: tuple[int, int],
    seeded: np.ndarray,
    seeds: np.ndarray,
) -> None:
    """Mark each hint's patch of the working copy (``lightness``) with its colour, in place."""
    height, width = shape
    work_h, work_w = lightness.shape
    sx, sy = work_w / width, work_h / height
    for hint in hints:
        cx = min(work_w - 1, int((hint.x + 0.5) * sx))
        cy = min(work_h - 1, int((hint.y + 0.5) * sy))
        patch = hint_patch(lightness, cx, cy)
        seeded |= patch
        seeds[patch] = rgb_to_ab(hint.rgb)


def hint_patch(lightness: np.ndarray, x: int, y: int) -> np.ndarray:
    """The pixels a hint at (x, y) colours: within a disc of ``HINT_RADIUS``, as light as the
    point (within ``HINT_LIGHTNESS``) and joined to it, like a short scribble over that area."""
    height, width = lightness.shape
    radius = max(1, round(HINT_RADIUS * min(height, width)))
    yy, xx = np.ogrid[0:height, 0:width]
    near = (xx - x) ** 2 + (yy - y) ** 2 <= radius**2
    near &= np.abs(lightness - lightness[y, x]) <= HINT_LIGHTNESS
    near[y, x] = True
    _count, labels = cv2.connectedComponents(near.astype(np.uint8), connectivity=8)
    return labels == labels[y, x]


def _person_seeds(
    small: np.ndarray, references: Sequence[np.ndarray], seeded: np.ndarray, seeds: np.ndarray
) -> tuple[int, tuple[str, ...]]:
    """Seed the person's skin, lips and hair in ``small`` with their colours from ``references``
    (in place); how many photos gave colours and which regions were seeded."""
    found = person_colours.find_person(to_uint8(small))
    if found is None:
        return 0, ()
    face, marks = found
    colours = person_colours.from_photos(references, face.descriptor)
    if not colours.chroma:
        return 0, ()
    masks = person_colours.region_masks(small.shape[:2], marks)
    for name in person_colours.REGIONS:  # lips after skin, hair last: the later one wins
        if name in colours.chroma and masks[name].any():
            seeded |= masks[name]
            seeds[masks[name]] = colours.chroma[name]
    return colours.photos, tuple(n for n in person_colours.REGIONS if n in colours.chroma)


def propagate(lightness: np.ndarray, seeded: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Levin et al.'s solve: (a, b) for every pixel from the seeds, HxWx2 float32.

    Each unseeded pixel r: (1 + pull)·U(r) − Σ w_rs·U(s) = 0 over its 8 neighbours s,
    w_rs ∝ exp(−(Y(r) − Y(s))² / (2σ_r²)) normalised to sum to 1, σ_r² the variance of the
    lightness Y (0–1) in r's 3×3 window (Levin's 0.6 factor and floor). Seeded pixels: U = seed."""
    height, width = lightness.shape
    count = height * width
    y = (lightness / 100.0).astype(np.float64)
    mean = cv2.blur(y, (3, 3), borderType=cv2.BORDER_REFLECT)
    variance = cv2.blur(y * y, (3, 3), borderType=cv2.BORDER_REFLECT) - mean * mean
    sigma2 = np.maximum(variance * 0.6, 2e-6)
    index = np.arange(count).reshape(height, width)
    rows, cols, weights = [], [], []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == 0 and dx == 0:
                continue
            r = index[max(0, -dy) : height - max(0, dy), max(0, -dx) : width - max(0, dx)]
            s = index[max(0, dy) : height + min(0, dy), max(0, dx) : width + min(0, dx)]
            yr = y.ravel()[r.ravel()]
            ys = y.ravel()[s.ravel()]
            rows.append(r.ravel())
            cols.append(s.ravel())
            weights.append(np.exp(-((yr - ys) ** 2) / sigma2.ravel()[r.ravel()]))
    row = np.concatenate(rows)
    col = np.concatenate(cols)
    weight = np.concatenate(weights)
    totals = np.bincount(row, weights=weight, minlength=count)
    weight /= totals[row]
    free = ~seeded.ravel()
    keep = free[row]  # seeded rows have no neighbour terms
    pull = NEUTRAL_PULL * (PULL_SIDE / min(height, width)) ** 2
    diagonal = np.where(free, 1.0 + pull, 1.0)
    matrix = sparse.csc_matrix(
        (
            np.concatenate([diagonal, -weight[keep]]),
            (
                np.concatenate([np.arange(count), row[keep]]),
                np.concatenate([np.arange(count), col[keep]]),
            ),
        ),
        shape=(count, count),
    )
    rhs = np.where(seeded.ravel()[:, None], seeds.reshape(-1, 2), 0.0)
    solution = sparse_linalg.splu(matrix).solve(rhs)
    return solution.reshape(height, width, 2).astype(np.float32)


def apply(image: np.ndarray, chroma: Chroma, in_place: bool = False) -> np.ndarray:
    """``image``'s own lightness with ``chroma`` enlarged to its size, in bands of rows, as a new
    HxWx3 float32 image or, with ``in_place``, written over ``image`` (a float32 array the caller
    owns: a 48-megapixel result then needs no second 576 MB array). Out-of-gamut pixels have
    their chroma reduced, not their lightness changed."""
    height, width = image.shape[:2]
    work_h, work_w = chroma.ab.shape[:2]
    if in_place and image.dtype != np.float32:
        raise ValueError("colouring in place needs a float32 image")
    out = image if in_place else np.empty((height, width, 3), np.float32)
    map_x = ((np.arange(width, dtype=np.float32) + 0.5) * work_w / width - 0.5)[None, :]
    for top in range(0, height, BAND_ROWS):
        rows = np.arange(top, min(height, top + BAND_ROWS), dtype=np.float32)
        map_y = ((rows + 0.5) * work_h / height - 0.5)[:, None]
        grid_x = np.broadcast_to(map_x, (rows.size, width)).astype(np.float32)
        grid_y = np.broadcast_to(map_y, (rows.size, width)).astype(np.float32)
        ab = cv2.remap(chroma.ab, grid_x, grid_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        band_lab = lab(image[top : top + rows.size])
        out[top : top + rows.size] = _in_gamut(band_lab[..., 0], ab)
    return out


def _in_gamut(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """RGB of (L, a, b), the chroma of pixels outside sRGB reduced step by step (and, for the
    few still outside, such as near-white highlights, removed) so that L stays the photo's.

    Each step recomputes only the pixels still outside: on a sepia print many highlights are,
    and recomputing whole bands for them cost a 48-megapixel result 40 CPU-seconds."""
    rgb = _lab_to_rgb(lightness, ab)
    flat = rgb.reshape(-1, 3)
    index = np.flatnonzero(_outside(flat))
    light, chroma = lightness.reshape(-1)[index], ab.reshape(-1, 2)[index]
    for step in range(GAMUT_STEPS):
        if not index.size:
            break
        chroma *= 0.7 if step < GAMUT_STEPS - 1 else 0.0
        redone = _lab_to_rgb(light, chroma)
        flat[index] = redone
        still = _outside(redone)
        index, light, chroma = index[still], light[still], chroma[still]
    return np.clip(rgb, 0, 1)


def _outside(rgb: np.ndarray) -> np.ndarray:
    return ((rgb < -1e-3) | (rgb > 1 + 1e-3)).any(axis=-1)


#: CIE XYZ (D65) to linear sRGB, and the D65 white, as OpenCV's Lab conversion uses them.
_XYZ_TO_RGB = np.array(
    [
        [3.240479, -1.53715, -0.498535],
        [-0.969256, 1.875991, 0.041556],
        [0.055648, -0.204043, 1.057311],
    ],
    np.float32,
)
_WHITE = np.array([0.950456, 1.0, 1.088754], np.float32)


def _lab_to_rgb(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """sRGB of Lab *without* clipping (OpenCV's own conversion clips, which would hide pixels
    outside the gamut, whose lightness the clip then changes). In float32 with OpenCV's power
    function: NumPy's took most of a 48-megapixel result's colouring time."""
    fy = (lightness.astype(np.float32) + 16) / 116
    f = np.stack([fy + ab[..., 0] / 500, fy, fy - ab[..., 1] / 200], axis=-1).astype(np.float32)
    cube = f * f * f
    xyz = np.where(f > 6 / 29, cube, np.float32(3 * (6 / 29) ** 2) * (f - np.float32(4 / 29)))
    xyz *= _WHITE
    linear = xyz.reshape(-1, 3) @ _XYZ_TO_RGB.T
    # The gamma branch only counts where linear > 0.0031308, so its sign is +1 there.
    curved = cv2.pow(np.maximum(linear, 0.0), 1 / 2.4)
    curved *= 1.055
    curved -= 0.055
    return np.where(linear <= 0.0031308, 12.92 * linear, curved).reshape(f.shape)
