"""The restoration networks Memorial trains and ships (``gan_engine/restore/weights/restore-*``, apart from the face priors in
``gan_engine/weights``), loaded
with their checksum checked, and run on the CPU in tiles.

Each folder holds ``weights.pt`` (fp16, the network only), ``model.json`` (which network, its
SHA-256 and size, how it was trained) and ``MODEL_CARD.md``. A damaged or swapped file is named,
never run: its checksum is compared before ``torch.load`` reads it.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gan_engine.errors import CheckpointError
from gan_engine.restore.networks import AB_SCALE, NETWORKS, ColourCritic

WEIGHTS = Path(__file__).resolve().parent / "weights"
FACE_ENLARGER = "restore-face-x4"
DAMAGE = "restore-damage"
FILL = "restore-fill"
COLOURISER = "restore-colour"
#: The colouriser sees the photo with this short side (its training photos were LFW's head and
#: shoulders at 96 px, the face about 40-60 px): colour varies slowly, so its chroma is enlarged
#: to the photo's size and the photo's own lightness carries all the detail.
COLOUR_SIDE = 112
#: ... and at most this long side, so a panorama's cost stays bounded.
COLOUR_MAX_SIDE = 336


def read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / "model.json").read_text())
    except (OSError, ValueError) as error:
        raise CheckpointError(
            f"The restoration model in {folder.name} has no readable model.json ({error})."
        ) from None
    if manifest.get("network") not in NETWORKS:
        raise CheckpointError(f"The restoration model in {folder.name} names no known network.")
    return manifest


def load(folder: Path) -> torch.nn.Module:
    """The network in ``folder``, float32, in eval mode, after checking its checksum."""
    manifest = read_manifest(folder)
    net = NETWORKS[manifest["network"]]()
    net.load_state_dict(_checked(folder, manifest["weights"], manifest["sha256"]))
    return net.eval()


def load_critic(folder: Path) -> torch.nn.Module | None:
    """The critic the network in ``folder`` learned against (checked like its weights), or None
    when it ships without one."""
    manifest = read_manifest(folder)
    if "critic" not in manifest:
        return None
    critic = ColourCritic()
    critic.load_state_dict(_checked(folder, manifest["critic"], manifest["critic_sha256"]))
    return critic.eval()


def _checked(folder: Path, name: str, sha256: str) -> dict[str, torch.Tensor]:
    """The float32 state dict in ``folder / name`` after its checksum is compared with
    ``sha256``; a missing or damaged file is named."""
    path = folder / name
    try:
        data = path.read_bytes()
    except OSError:
        raise CheckpointError(
            f"The restoration model's weights file {path.name} in {folder.name} is missing."
        ) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise CheckpointError(
            f"The restoration model's weights in {folder.name} are damaged (their checksum does "
            "not match model.json); reinstall Memorial or retrain the model."
        )
    weights = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    return {k: v.float() for k, v in weights.items()}


@lru_cache(maxsize=4)
def shipped(name: str) -> torch.nn.Module:
    return load(WEIGHTS / name)


@lru_cache(maxsize=1)
def shipped_critic(name: str) -> torch.nn.Module | None:
    return load_critic(WEIGHTS / name)


def enlarge_face(crop: np.ndarray, factor: int, net: torch.nn.Module | None = None) -> np.ndarray:
    """HxWx3 float in [0, 1] -> (factor·H)x(factor·W)x3 by the face enlarger (×4; ×2 is its ×4
    shrunk by area averaging, as Real-ESRGAN's own ×2 is made)."""
    net = net or shipped(FACE_ENLARGER)
    with torch.inference_mode():
        x = torch.from_numpy(np.ascontiguousarray(crop, np.float32)).permute(2, 0, 1)[None]
        y = net(x)
        if factor == 2:
            y = F.avg_pool2d(y, 2)
        return y[0].permute(1, 2, 0).clamp(0, 1).numpy()


def damage_probability(
    image: np.ndarray, net: torch.nn.Module | None = None, tile: int = 512, margin: int = 32
) -> np.ndarray:
    """HxW probability that each pixel is a scratch or speck, from an HxWx3 float image; in
    tiles of ``tile`` px with ``margin`` px of context, so memory stays bounded."""
    net = net or shipped(DAMAGE)
    height, width = image.shape[:2]
    out = np.empty((height, width), np.float32)
    with torch.inference_mode():
        for top in range(0, height, tile):
            for left in range(0, width, tile):
                y0, x0 = max(0, top - margin), max(0, left - margin)
                y1, x1 = min(height, top + tile + margin), min(width, left + tile + margin)
                patch = np.ascontiguousarray(image[y0:y1, x0:x1], np.float32)
                ph, pw = patch.shape[:2]
                x = _padded(torch.from_numpy(patch).permute(2, 0, 1)[None], "replicate")
                prob = torch.sigmoid(net(x))[0, :ph, :pw].numpy()
                bottom, right = min(height, top + tile), min(width, left + tile)
                out[top:bottom, left:right] = prob[top - y0 : bottom - y0, left - x0 : right - x0]
    return out


def predict_chroma(
    lightness: np.ndarray, net: torch.nn.Module | None = None, side: int = COLOUR_SIDE
) -> np.ndarray:
    """CIE Lab chroma (a, b), HxWx2 float32, for an HxW lightness (L, 0-100): the colouriser
    run on a copy ``side`` px on its short side (at most ``COLOUR_MAX_SIDE`` on its long side),
    its answer enlarged back to HxW."""
    import cv2

    net = net or shipped(COLOURISER)
    height, width = lightness.shape
    scale = min(side / min(height, width), COLOUR_MAX_SIDE / max(height, width))
    small_w, small_h = max(16, round(width * scale)), max(16, round(height * scale))
    shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    small = cv2.resize(
        np.ascontiguousarray(lightness, np.float32), (small_w, small_h), interpolation=shrink
    )
    with torch.inference_mode():
        x = torch.from_numpy(np.clip(small / 100.0, 0, 1))[None, None]
        ab = net(_padded(x, "replicate", 16))[0, :, :small_h, :small_w]
    ab = ab.permute(1, 2, 0).numpy() * AB_SCALE
    return cv2.resize(ab, (width, height), interpolation=cv2.INTER_LINEAR).astype(np.float32)


def _padded(x: torch.Tensor, mode: str, multiple: int = 8) -> torch.Tensor:
    """An N×C×H×W tensor padded at its bottom and right to multiples of ``multiple`` (the
    U-Nets halve three times, the colouriser four)."""
    pad_h, pad_w = -x.shape[2] % multiple, -x.shape[3] % multiple
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode) if pad_h or pad_w else x


def fill_damage(
    image: np.ndarray,
    mask: np.ndarray,
    net: torch.nn.Module | None = None,
    tile: int = 256,
    margin: int = 32,
    in_place: bool = False,
) -> np.ndarray:
    """``image`` (HxWx3 float, its masked pixels already filled by Telea: gan_engine.restore.
    repair.fill) with the pixels under ``mask`` corrected by the learned fill; every other pixel
    unchanged. Only tiles that hold damage are run. ``in_place``: write into ``image`` (float32)
    instead of a copy: a 12-megapixel scan's copy is 144 MB."""
    net = net or shipped(FILL)
    height, width = image.shape[:2]
    out = image if in_place else np.array(image, dtype=np.float32, copy=True)
    with torch.inference_mode():
        for top in range(0, height, tile):
            for left in range(0, width, tile):
                bottom, right = min(height, top + tile), min(width, left + tile)
                if not mask[top:bottom, left:right].any():
                    continue
                y0, x0 = max(0, top - margin), max(0, left - margin)
                y1, x1 = min(height, bottom + margin), min(width, right + margin)
                patch = torch.from_numpy(np.ascontiguousarray(image[y0:y1, x0:x1], np.float32))
                holes = torch.from_numpy(mask[y0:y1, x0:x1].astype(np.float32))
                x = _padded(patch.permute(2, 0, 1)[None], "replicate")
                m = _padded(holes[None, None], "constant")[:, 0]
                ph, pw = holes.shape
                painted = net(x, m)[0, :, :ph, :pw].permute(1, 2, 0).numpy()
                inner = np.s_[top - y0 : bottom - y0, left - x0 : right - x0]
                region = out[top:bottom, left:right]
                holes_inner = mask[top:bottom, left:right]
                region[holes_inner] = painted[inner][holes_inner]
    return out


def enlarge_photo(
    image: np.ndarray,
    factor: int,
    net: torch.nn.Module | None = None,
    progress: Callable[[int, int], None] | None = None,
    tile: int = 128,
    margin: int = 12,
) -> np.ndarray:
    """A whole HxWx3 float photo enlarged by the face enlarger, in tiles of ``tile`` source px
    with ``margin`` px of context each side (so memory stays bounded and no seam shows)."""
    net = net or shipped(FACE_ENLARGER)
    height, width = image.shape[:2]
    out = np.empty((height * factor, width * factor, 3), np.float32)
    tiles = [(y, x) for y in range(0, height, tile) for x in range(0, width, tile)]
    for done, (y, x) in enumerate(tiles, 1):
        y0, x0 = max(0, y - margin), max(0, x - margin)
        y1, x1 = min(height, y + tile + margin), min(width, x + tile + margin)
        big = enlarge_face(image[y0:y1, x0:x1], factor, net)
        bottom, right = min(height, y + tile), min(width, x + tile)
        out[y * factor : bottom * factor, x * factor : right * factor] = big[
            (y - y0) * factor : (bottom - y0) * factor, (x - x0) * factor : (right - x0) * factor
        ]
        if progress:
            progress(done, len(tiles))
    return out
