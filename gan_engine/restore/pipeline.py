"""The restoring steps in order: repair → (colourise) → enlarge → fidelity blend.

Each step reports what it did as C2PA-style action names (for the provenance of the result) and
what a person should know as plain notes ("already in colour; not colourised"). Nothing is
invented: a step that cannot be done is said, not faked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from gan_engine.errors import Cancelled, DataError
from gan_engine.restore import colour, enlarge, repair

#: What a restore did, in C2PA action names (c2pa.* standard, org.memorial.* our own).
REPAIRED = "org.memorial.repaired"
RESIZED = "c2pa.resized"
BLENDED = "org.memorial.fidelity_blend"

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Hint:
    """A colour the person knows at one point (x, y in pixels): for the colouriser."""

    x: int
    y: int
    rgb: tuple[int, int, int]


@dataclass(frozen=True)
class Options:
    repair: bool = False
    colourise: bool = False
    enlarge: int = 1
    fidelity: float = 0.3
    hints: tuple[Hint, ...] = ()
    network: str | None = None  # None: chosen by size (enlarge.choose_network)

    def __post_init__(self) -> None:
        if self.enlarge not in (1, 2, 4):
            raise DataError("Photos can be enlarged 2 or 4 times.")
        if not 0.0 <= self.fidelity <= 1.0:
            raise DataError("Fidelity goes from 0 (the most restored) to 1 (the original).")
        if not (self.repair or self.colourise or self.enlarge > 1):
            raise DataError("Choose at least one of repair, colourise or enlarge.")


@dataclass
class Restored:
    image: np.ndarray
    tone: colour.ToneReport
    actions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    damage: np.ndarray | None = None
    network: str | None = None


def restore(
    image: np.ndarray,
    options: Options,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> Restored:
    """Restore an HxWx3 float image in [0, 1]; the input array is never changed."""

    def report(fraction: float, message: str) -> None:
        if should_cancel and should_cancel():
            raise Cancelled("The restoration was stopped.")
        if progress:
            progress(fraction, message)

    height, width = image.shape[:2]
    if options.enlarge > 1:
        enlarge.check_size(height, width, options.enlarge)  # refuse before any work
    tone = colour.tone_of(image)
    result = Restored(image=image.copy(), tone=tone)
    report(0.0, "Looking at the photo.")

    if options.repair:
        report(0.05, "Finding scratches and dust.")
        mask = repair.damage_mask(image)
        result.damage = mask
        if mask.any():
            result.image = repair.fill(result.image, mask)
            result.actions.append(REPAIRED)
        else:
            result.notes.append("No scratches or dust were found; nothing was repaired.")

    if options.colourise:
        if not tone.monochrome:
            result.notes.append("This photo is already in colour, so it was not colourised.")
        else:
            result.notes.append("Colourising is not available yet; the photo keeps its tones.")

    if options.enlarge > 1:
        network = options.network or enlarge.choose_network(height, width)
        report(0.15, "Enlarging the photo.")
        model = enlarge.Enlarger(network)  # type: ignore[arg-type]

        def tiles(done: int, total: int) -> None:
            report(0.15 + 0.8 * done / total, "Enlarging the photo.")

        repaired = result.image
        enlarged = model.run(repaired, options.enlarge, tiles)
        result.network = network
        result.actions.append(RESIZED)
        if tone.monochrome:  # the network may tint a grey photo; keep its own tone
            enlarged = _keep_tone(enlarged, repaired)
        # Fidelity: how far the network may move the picture from the (repaired) original,
        # enlarged plainly. The repair itself is a fill of damage only and is not blended back.
        if options.fidelity > 0:
            size = (enlarged.shape[1], enlarged.shape[0])
            plain = cv2.resize(repaired, size, interpolation=cv2.INTER_CUBIC)
            np.clip(plain, 0, 1, out=plain)
            # In place: at 48 megapixels each float copy is 576 MB.
            enlarged *= 1 - options.fidelity
            plain *= options.fidelity
            enlarged += plain
            del plain
            result.actions.append(BLENDED)
        result.image = enlarged
    report(1.0, "Done.")
    return result


def _keep_tone(enlarged: np.ndarray, source: np.ndarray) -> np.ndarray:
    """The enlarged picture's lightness in the source's own single tone (grey, or the print's
    sepia): each channel is the lightness times the source's mean ratio of that channel to its
    lightness. In place, in bands of rows, so a big scan needs no full-size copy."""
    grey = cv2.cvtColor(np.ascontiguousarray(source, np.float32), cv2.COLOR_RGB2GRAY)
    tint = source.reshape(-1, 3).mean(axis=0) / max(float(grey.mean()), 1e-6)
    for top in range(0, enlarged.shape[0], 256):
        band = enlarged[top : top + 256]
        lightness = cv2.cvtColor(np.ascontiguousarray(band), cv2.COLOR_RGB2GRAY)
        np.clip(lightness[..., None] * tint, 0, 1, out=band)
    return enlarged
