"""A face enlarger and a colouriser taught the person's own face: the shipped networks
fine-tuned for a few CPU-minutes on crops of the person from the family's colour photos.

Why: a general enlarger guesses the detail a small face lacks from every face it has seen; the
family's own photos show what this face really holds (the shape of the eyes, the lines of the
mouth). Crops are framed as the general training photos were (LFW: the face about 40 % of a
250 px square) so the fine-tuning sees what it was trained on; faces too small to hold detail
(under ``MIN_FACE`` px) teach nothing and are left out. The colouriser learns the colours of
the person's skin, hair and eyes, and of what they were photographed in, from the same crops.
Nothing is stored: the personalised network lives for the one restoration that made it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np
import torch

from gan_engine.faces import SAME_PERSON_DISTANCE
from gan_engine.restore import models, training
from gan_engine.restore.load import to_uint8

SIDE = 250
#: The crop's side as a multiple of the detector box's side (LFW's framing).
FRAME = 2.5
#: Faces smaller than this (detector box side, px) hold too little detail to learn from.
MIN_FACE = 64
#: Fine-tuning's learning rate: a fifth of the general training's, so a few photos refine the
#: general network instead of replacing it.
LR = 1e-4
#: The colouriser's fine-tuning rate: a third of its general training's.
COLOUR_LR = 1e-4


def person_in(image: np.ndarray, factor: int) -> np.ndarray | None:
    """The dlib descriptor of the largest face in an HxWx3 float photo, looked at enlarged up to
    ``factor`` times as the faces to enlarge are found, or None."""
    from gan_engine.restore.face_enlarge import detect_enlarged

    faces, _scale = detect_enlarged(image, factor, describe=True)
    return max(faces, key=lambda f: f.size).descriptor if faces else None


def face_crops(
    photos: Sequence[np.ndarray],
    person: np.ndarray | None = None,
    same_person: float = SAME_PERSON_DISTANCE,
) -> np.ndarray:
    """uint8 (N, 250, 250, 3) crops of the person from HxWx3 float photos: the face closest to
    ``person`` (a dlib descriptor) within ``same_person``, or the largest face when None."""
    from gan_engine.faces import distance
    from gan_engine.restore.face_enlarge import tools

    crops = []
    for photo in photos:
        pixels = to_uint8(photo)
        faces = tools().detect(pixels, describe=person is not None)
        if person is not None:
            faces = [f for f in faces if distance(f.descriptor, person) <= same_person]
        if not faces:
            continue
        face = max(faces, key=lambda f: f.size)
        if face.size < MIN_FACE:
            continue
        left, top, right, bottom = face.box
        side = round(FRAME * max(right - left, bottom - top))
        x0, y0 = round((left + right - side) / 2), round((top + bottom - side) / 2)
        height, width = pixels.shape[:2]
        pad = max(0, -x0, -y0, x0 + side - width, y0 + side - height)
        if pad:
            pixels = cv2.copyMakeBorder(pixels, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
        crop = pixels[y0 + pad : y0 + pad + side, x0 + pad : x0 + pad + side]
        shrink = cv2.INTER_AREA if side > SIDE else cv2.INTER_CUBIC
        crop = cv2.resize(crop, (SIDE, SIDE), interpolation=shrink)
        crops.append(crop)
    return np.stack(crops) if crops else np.empty((0, SIDE, SIDE, 3), np.uint8)


def personalise(
    crops: np.ndarray,
    cpu_seconds: float = 120.0,
    base: torch.nn.Module | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> torch.nn.Module:
    """The face enlarger fine-tuned on ``crops`` for ``cpu_seconds`` of CPU time."""
    base = base or models.shipped(models.FACE_ENLARGER)
    plan = training.Plan("face_enlarger", cpu_seconds / 60, batch=8, lr=LR)
    return training.train(plan, crops, None, init=base, should_stop=should_stop)


def personalise_colouriser(
    crops: np.ndarray,
    cpu_seconds: float = 60.0,
    base: torch.nn.Module | None = None,
    critic: torch.nn.Module | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> torch.nn.Module:
    """The colouriser fine-tuned on ``crops`` (the person's colour photos) for ``cpu_seconds``
    of CPU time, against the critic it was trained with (the shipped one by default: L1 alone
    fades the colours a few steps at a time), or by L1 alone where there is none."""
    if base is None:
        base = models.shipped(models.COLOURISER)
        critic = critic if critic is not None else models.shipped_critic(models.COLOURISER)
    plan = training.Plan(
        "colouriser", cpu_seconds / 60, batch=8, lr=COLOUR_LR, adversarial=critic is not None
    )
    return training.train(plan, crops, None, init=base, should_stop=should_stop, init_critic=critic)
