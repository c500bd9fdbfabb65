"""Piecewise affine mesh warp of the portrait, and the inside of the opened mouth.

Why this design: a Delaunay triangle mesh over the 68 landmarks, a ring around the head (which
moves rigidly with it) and a fixed ring on the image border gives a warp that moves lips, jaw,
eyelids and head while the background stays exactly still, with no seams (the warp is continuous
across triangle edges). Each pixel's triangle and barycentric weights are computed once on the
portrait's mesh, so a frame costs one sparse product (pixel displacements from vertex
displacements) and one ``cv2.remap`` — far faster than real time on a CPU. Sampling backward
through the source mesh is the standard small-motion approximation of the inverse warp.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import sparse
from scipy.spatial import Delaunay

from gan_engine.video.interior import Interior
from gan_engine.video.interior import sample as sample_interior
from gan_engine.video.motion import Pose, rotate

_RING = 20
#: The painted teeth: their strongest blend over the cavity, and how far down the opening (a share
#: of the inner-lip gap, at most 0.09 eye distances) they fade out.
TEETH_OPACITY = 0.35
TEETH_DEPTH = 0.25
_BORDER_STEPS = 8


def head_ring(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Points on an ellipse around the head (hair, ears, neck), kept inside the image."""
    height, width = shape
    centre = points[[0, 16, 8, 27]].mean(0)
    half_width = 0.85 * np.linalg.norm(points[16] - points[0])
    half_height = 1.25 * np.linalg.norm(points[8] - points[27])
    angles = np.linspace(0, 2 * np.pi, _RING, endpoint=False)
    ring = centre + np.stack([half_width * np.cos(angles), half_height * np.sin(angles)], 1)
    ring[:, 0] = ring[:, 0].clip(4, width - 5)
    ring[:, 1] = ring[:, 1].clip(4, height - 5)
    return ring


def border_ring(shape: tuple[int, int]) -> np.ndarray:
    """Fixed points along the image border: the background never moves."""
    height, width = shape
    xs = np.linspace(0, width - 1, _BORDER_STEPS + 1)
    ys = np.linspace(0, height - 1, _BORDER_STEPS + 1)
    top = np.stack([xs, np.zeros_like(xs)], 1)
    bottom = np.stack([xs, np.full_like(xs, height - 1)], 1)
    left = np.stack([np.zeros_like(ys[1:-1]), ys[1:-1]], 1)
    right = np.stack([np.full_like(ys[1:-1], width - 1), ys[1:-1]], 1)
    return np.concatenate([top, bottom, left, right])


def triangle_weights(source: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    """Pixels x vertices: each pixel's barycentric weights in its triangle of the Delaunay mesh
    over ``source`` (which must reach the image corners), so that pixel displacements are one
    sparse product with the vertices' displacements."""
    height, width = shape
    mesh = Delaunay(source)
    ys, xs = np.mgrid[0:height, 0:width]
    pixels = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64)
    simplex = mesh.find_simplex(pixels)
    simplex[simplex < 0] = 0  # numerically on the hull edge; weights are clipped below
    transform = mesh.transform[simplex]
    partial = np.einsum("nij,nj->ni", transform[:, :2], pixels - transform[:, 2])
    weights = np.clip(np.concatenate([partial, 1 - partial.sum(1, keepdims=True)], 1), 0, 1)
    weights /= weights.sum(1, keepdims=True)
    rows = np.repeat(np.arange(pixels.shape[0]), 3)
    return sparse.csr_matrix(
        (weights.ravel().astype(np.float32), (rows, mesh.simplices[simplex].ravel())),
        shape=(pixels.shape[0], source.shape[0]),
    )


class MeshWarp:
    """Renders frames of one portrait from poses (see :mod:`gan_engine.video.motion`)."""

    def __init__(
        self,
        image: np.ndarray,
        points: np.ndarray,
        centre: np.ndarray,
        interior: Interior | None = None,
    ) -> None:
        self.image = np.ascontiguousarray(image)
        self.interior = interior
        self.shape = image.shape[:2]
        height, width = self.shape
        self.centre = centre
        self.landmarks = np.asarray(points, dtype=np.float64)
        ring = head_ring(self.landmarks, self.shape)
        border = border_ring(self.shape)
        keep = np.min(np.linalg.norm(ring[:, None] - border[None], axis=2), axis=1) > 3
        self.ring = ring[keep]
        self.border = border
        # The middle of each eye's opening is a vertex too: moving it moves the iris (gaze).
        self.pupils = np.stack([self.landmarks[36:42].mean(0), self.landmarks[42:48].mean(0)])
        self.source = np.concatenate([self.landmarks, self.pupils, self.ring, self.border])
        self.weights = triangle_weights(self.source, self.shape)
        ys, xs = np.mgrid[0:height, 0:width]
        self.grid_x = xs.astype(np.float32)
        self.grid_y = ys.astype(np.float32)
        self.mouth_colour = self._lip_colour()

    def _lip_colour(self) -> np.ndarray:
        mask = np.zeros(self.shape, np.uint8)
        cv2.fillPoly(mask, [np.round(self.landmarks[48:60]).astype(np.int32)], 1)
        cv2.fillPoly(mask, [np.round(self.landmarks[60:68]).astype(np.int32)], 0)  # lips only
        pixels = self.image[mask.astype(bool)]
        return pixels.mean(0) if pixels.size else np.array([150.0, 80.0, 80.0])

    def targets(self, pose: Pose) -> np.ndarray:
        """Where every mesh vertex goes in this frame."""
        ring = rotate(self.ring, self.centre, pose.angle) + pose.shift
        pupils = pose.pupils
        if pupils is None:
            pupils = np.stack([pose.points[36:42].mean(0), pose.points[42:48].mean(0)])
        return np.concatenate([pose.points, pupils, ring, self.border])

    def render(self, pose: Pose) -> np.ndarray:
        """One HxWx3 uint8 frame."""
        moved = (self.targets(pose) - self.source).astype(np.float32)
        frame = self.displaced(self.weights @ moved)
        if pose.opening > 0.6:
            self._fill_mouth(frame, pose)
        return frame

    def displaced(self, displacement: np.ndarray) -> np.ndarray:
        """The portrait with every pixel moved by ``displacement`` (pixels x 2, row-major)."""
        height, width = self.shape
        map_x = self.grid_x - displacement[:, 0].reshape(height, width)
        map_y = self.grid_y - displacement[:, 1].reshape(height, width)
        return cv2.remap(
            self.image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )

    def _fill_mouth(self, frame: np.ndarray, pose: Pose) -> None:
        """Fill the opened mouth: the person's own mouth from a photo where one showed it open
        (:mod:`interior`), else a painted shadowed cavity with the upper teeth showing."""
        inner = pose.points[60:68]
        left, top = np.floor(inner.min(0)).astype(int) - 3
        right, bottom = np.ceil(inner.max(0)).astype(int) + 4
        height, width = self.shape
        left, top = max(left, 0), max(top, 0)
        right, bottom = min(right, width), min(bottom, height)
        if right - left < 2 or bottom - top < 2:
            return
        box_h, box_w = bottom - top, right - left
        scale = 4  # sub-pixel polygon edges (cv2 shift=2)
        offset = np.array([left, top])
        polygon = np.round((inner - offset) * scale).astype(np.int32)
        mask = np.zeros((box_h, box_w), np.uint8)
        cv2.fillPoly(mask, [polygon], 255, cv2.LINE_AA, shift=2)
        alpha = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (3, 3), 0)[..., None]
        # Fade the cavity in with the opening: a barely parted mouth keeps its own pixels.
        unit = np.linalg.norm(pose.points[45] - pose.points[36])
        alpha *= float(np.clip(pose.opening / (0.12 * unit), 0.0, 1.0))
        # Cavity: the lip colour, much darker, darkest in the middle.
        ys = np.arange(box_h, dtype=np.float32)[:, None]
        upper = np.interp(np.arange(box_w) + left, *_sorted(pose.points[[60, 61, 62, 63, 64]]))
        lower = np.interp(np.arange(box_w) + left, *_sorted(pose.points[[60, 67, 66, 65, 64]]))
        gap = np.maximum(lower - upper, 1e-3)[None, :]
        depth = np.clip((ys + top - upper[None, :]) / gap, 0, 1)
        shade = 0.10 + 0.18 * np.abs(depth - 0.5) * 2
        fill = self.mouth_colour[None, None, :] * shade[..., None]
        # A hint of teeth: off-white under the upper lip, fading out downwards with no edge,
        # faint and narrow, because the landmark detector reads a stronger band's lower edge as
        # the inner upper lip and lip sync drops (BENCHMARKS.md, "Video").
        band = np.maximum(np.clip(TEETH_DEPTH * gap, 0, 0.09 * unit), 1e-3)
        teeth = np.clip(1 - (ys + top - upper[None, :]) / band, 0, 1) ** 2
        teeth = TEETH_OPACITY * teeth.astype(np.float32)[..., None]
        teeth_colour = np.array([196.0, 186.0, 172.0]) * (0.75 + 0.25 * (1 - depth[..., None]))
        if self.interior is not None:  # the person's own teeth over the painted cavity
            own, weight = sample_interior(self.interior, pose.points, (left, top, right, bottom))
            fill = fill * (1 - weight) + own * weight
        else:
            fill = fill * (1 - teeth) + teeth_colour * teeth
        region = frame[top:bottom, left:right].astype(np.float32)
        frame[top:bottom, left:right] = np.clip(region * (1 - alpha) + fill * alpha, 0, 255).astype(
            np.uint8
        )


def _sorted(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(points[:, 0])
    return points[order, 0], points[order, 1]
