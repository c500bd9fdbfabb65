"""Find, align and identify faces with dlib and the pretrained models of ``face_recognition_models``.

Why dlib: its HOG detector runs fast on a CPU, its 5-point landmark model gives a stable alignment
(eyes and nose at fixed places, which is what makes a few dozen photos learnable), and its ResNet
descriptor (128-d, same person below ~0.6 Euclidean distance) lets us pick the right person in
group photos and later measure whether generated faces still look like that person.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np

from gan_engine.errors import EngineError

#: dlib's documented threshold: descriptors closer than this are usually the same person.
SAME_PERSON_DISTANCE = 0.6
#: Margin around the 5-point face box in the canonical crop (dlib's ``padding``: 0.25 is tight to
#: the face; 0.4 keeps hairline, ears and chin, which matter for recognising a person).
DEFAULT_PADDING = 0.4

Detector = Literal["hog", "cnn"]


def models_dir() -> Path:
    """The folder of dlib model files inside ``face_recognition_models``.

    Located with importlib rather than imported, because the package's ``__init__`` imports the
    deprecated ``pkg_resources``.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        raise EngineError(
            "the face models are not installed: pip install face_recognition_models dlib-bin"
        )
    folder = Path(spec.origin).parent / "models"
    if not folder.is_dir():
        raise EngineError(f"the face models folder is missing: {folder}")
    return folder


@dataclass(frozen=True)
class Face:
    """One detected face: its box in image pixels, its 5 landmarks and its identity descriptor."""

    box: tuple[int, int, int, int]  # left, top, right, bottom
    landmarks: np.ndarray  # 5x2 float (x, y)
    descriptor: np.ndarray  # 128 float
    score: float

    @property
    def size(self) -> int:
        """The face's side in pixels (the smaller of the box's width and height)."""
        left, top, right, bottom = self.box
        return int(min(right - left, bottom - top))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two descriptors (dlib's metric)."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


class FaceTools:
    """Lazily loaded dlib models; one instance per process is enough (they are read-only)."""

    def __init__(self, detector: Detector = "hog", max_detect_side: int = 1024) -> None:
        if detector not in ("hog", "cnn"):
            raise EngineError(f"unknown face detector {detector!r}; use 'hog' or 'cnn'")
        self.detector_kind = detector
        self.max_detect_side = max_detect_side

    @cached_property
    def _dlib(self):
        import dlib

        return dlib

    @cached_property
    def _detector(self):
        if self.detector_kind == "cnn":
            return self._dlib.cnn_face_detection_model_v1(
                str(models_dir() / "mmod_human_face_detector.dat")
            )
        return self._dlib.get_frontal_face_detector()

    @cached_property
    def _shape_predictor(self):
        return self._dlib.shape_predictor(
            str(models_dir() / "shape_predictor_5_face_landmarks.dat")
        )

    @cached_property
    def _shape_predictor_68(self):
        return self._dlib.shape_predictor(
            str(models_dir() / "shape_predictor_68_face_landmarks.dat")
        )

    @cached_property
    def _recogniser(self):
        return self._dlib.face_recognition_model_v1(
            str(models_dir() / "dlib_face_recognition_resnet_model_v1.dat")
        )

    def _detect_boxes(self, image: np.ndarray) -> list[tuple[tuple[int, int, int, int], float]]:
        """Boxes in full-image pixels; detection runs on a downscaled copy of large photos.

        Small images are upsampled once so that faces of ~40 px are still found (LFW-sized photos).
        """
        height, width = image.shape[:2]
        scale = min(1.0, self.max_detect_side / max(height, width))
        small = image
        if scale < 1.0:
            from PIL import Image

            small = np.asarray(
                Image.fromarray(image).resize(
                    (round(width * scale), round(height * scale)), Image.Resampling.BILINEAR
                )
            )
        upsample = 1 if max(small.shape[:2]) <= 640 else 0
        boxes: list[tuple[tuple[int, int, int, int], float]] = []
        if self.detector_kind == "cnn":
            for detection in self._detector(small, upsample):
                rect = detection.rect
                boxes.append(
                    ((rect.left(), rect.top(), rect.right(), rect.bottom()), detection.confidence)
                )
        else:
            rects, scores, _ = self._detector.run(small, upsample, 0.0)
            for rect, score in zip(rects, scores, strict=True):
                boxes.append(((rect.left(), rect.top(), rect.right(), rect.bottom()), float(score)))
        return [
            (tuple(round(v / scale) for v in box), score)  # type: ignore[misc]
            for box, score in boxes
        ]

    def detect(self, image: np.ndarray, *, describe: bool = True) -> list[Face]:
        """All faces in an HxWx3 uint8 RGB image, largest first, with landmarks and descriptors."""
        image = np.ascontiguousarray(image)
        faces = []
        for box, score in self._detect_boxes(image):
            rect = self._dlib.rectangle(*box)
            shape = self._shape_predictor(image, rect)
            points = np.array([[shape.part(i).x, shape.part(i).y] for i in range(5)], dtype=float)
            descriptor = (
                np.array(self._recogniser.compute_face_descriptor(image, shape), dtype=np.float32)
                if describe
                else np.zeros(128, dtype=np.float32)
            )
            faces.append(Face(box=box, landmarks=points, descriptor=descriptor, score=score))
        faces.sort(key=lambda face: face.size, reverse=True)
        return faces

    def landmarks68(self, image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """dlib's 68 points (jaw, brows, nose, eyes, lips; 68x2 float x, y) inside a face box:
        the lips, eyelids and cheeks that 5 points do not give (the talking portrait's warp,
        restoration's colour regions)."""
        shape = self._shape_predictor_68(np.ascontiguousarray(image), self._dlib.rectangle(*box))
        return np.array([[shape.part(i).x, shape.part(i).y] for i in range(68)], dtype=np.float64)

    def align(
        self, image: np.ndarray, face: Face, size: int, padding: float = DEFAULT_PADDING
    ) -> np.ndarray:
        """The canonical crop: rotate/scale so the 5 landmarks land on dlib's template, with margin."""
        image = np.ascontiguousarray(image)
        left, top, right, bottom = face.box
        parts = [self._dlib.point(round(x), round(y)) for x, y in face.landmarks]
        shape = self._dlib.full_object_detection(
            self._dlib.rectangle(left, top, right, bottom), parts
        )
        return np.asarray(self._dlib.get_face_chip(image, shape, size=size, padding=padding))

    def describe_crop(self, crop: np.ndarray) -> np.ndarray | None:
        """Descriptor of the largest face in an (aligned or generated) crop, or None if none is found.

        Crops smaller than 150 px are upscaled first: dlib's detector misses faces under ~80 px.
        """
        from PIL import Image

        picture = np.ascontiguousarray(crop)
        if picture.shape[0] < 150:
            picture = np.asarray(
                Image.fromarray(picture).resize((256, 256), Image.Resampling.BICUBIC)
            )
        faces = self.detect(picture)
        return faces[0].descriptor if faces else None
