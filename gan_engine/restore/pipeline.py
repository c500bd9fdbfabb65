"""The restoring steps in order: repair (damage, then noise, then fading) → colourise → enlarge →
fidelity blend → faces kept.

Each step reports what it did as C2PA-style action names (for the provenance of the result) and
what a person should know as plain notes ("already in colour; not colourised"). Nothing is
invented: a step that cannot be done is said, not faked. The colours are worked out before
enlarging (hints are in the photo's own pixels) and put on after it, so the enlarged photo's
lightness is the one kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from gan_engine.errors import Cancelled, DataError
from gan_engine.restore import colour, colourise, denoise, enlarge, face_enlarge, levels, repair
from gan_engine.restore.colourise import Hint
from gan_engine.restore.enlarge import NETWORK_MAX_INPUT_PIXELS

#: What a restore did, in C2PA action names (c2pa.* standard, org.memorial.* our own).
REPAIRED = "org.memorial.repaired"
DENOISED = "org.memorial.denoised"
ADJUSTED = "c2pa.color_adjustments"  # the C2PA standard action for tone and contrast changes
COLOURISED = "org.memorial.colourised"
RESIZED = "c2pa.resized"
BLENDED = "org.memorial.fidelity_blend"

#: Notes for a person (the product translates them: memorial/restoration/tasks.py).
NOTHING_TO_REPAIR = "No scratches, dust or noise were found; nothing was repaired."
SMOOTHED = "Grain, noise or compression blocks were smoothed."
UNFADED = "The photo had faded; its dark tones were brought back."
FACES_KEPT = "Faces were enlarged gently so they keep the person's likeness."
IN_COLOUR = "This photo is already in colour, so it was not colourised."
NOT_FOUND = "The person's face was not found in the colour photos, so they could not guide it."
LEARNED_COLOURS = "Colours were taught by the person's own colour photos."
GUESSED_COLOURS = (
    "The colours are the colour model's best guess; add colour hints where you know the colour."
)
HINTED_COLOURS = "The colours are the colour model's, corrected by your colour hints."
NO_FACE = "No face was found, so the whole photo was enlarged by the general enlarger."
PERSONAL = "Faces were enlarged by a model taught the person's own face from their photos."
NOT_LEARNED = (
    "None of the person's photos showed their face large enough to learn from, so faces were "
    "enlarged by the general face model."
)
PLAIN = "A photo this large already holds its detail, so it was enlarged by a plain, faster method."

Progress = Callable[[float, str], None]
#: Memorial's own enlarger (gan_engine.restore.models.enlarge_photo).
MEMORIAL = "memorial"


@dataclass(frozen=True)
class Options:
    repair: bool = False
    colourise: bool = False
    enlarge: int = 1
    fidelity: float = 0.3
    hints: tuple[Hint, ...] = ()
    #: The enlarger for photos up to ``network_max_pixels``: Memorial's own (MEMORIAL, the face
    #: enlarger over the whole photo: the best PSNR and likeness measured, BENCHMARKS.md "Photo
    #: restoration"), or Real-ESRGAN's "x4plus" or "compact" (with faces by ``faces``).
    network: str | None = None
    #: How faces are enlarged: by a likeness-keeping method inside a feathered ellipse around
    #: each face (face_enlarge), or None for the general enlarger everywhere. The face enlarger
    #: Memorial trained (gan_engine.restore.networks) keeps the likeness and adds the detail
    #: Lanczos lacks: see BENCHMARKS.md, "Photo restoration".
    faces: face_enlarge.FaceMethod | None = "network"
    #: Above this many input pixels (and with no ``network`` asked for) the photo is enlarged by
    #: enlarge.plain, not a network: see enlarge.py's NETWORK_MAX_INPUT_PIXELS for why.
    network_max_pixels: int = NETWORK_MAX_INPUT_PIXELS
    #: With colour photos of the person (``references``) and faces enlarged by the network: first
    #: fine-tune the face enlarger on the person's own face for this many CPU-seconds
    #: (gan_engine.restore.personal); 0 = the general face enlarger.
    personal_seconds: float = 0.0
    #: With colour photos of the person and a photo to colourise: first fine-tune the colouriser
    #: on the person's colour photos for this many CPU-seconds; 0 = the general colouriser.
    personal_colour_seconds: float = 0.0

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
    references: Sequence[np.ndarray] = (),
) -> Restored:
    """Restore an HxWx3 float image in [0, 1]; the input array is never changed.

    ``references``: colour photos of the person (HxWx3 floats) that teach the colouriser (and,
    with ``personal_seconds``, the face enlarger) the person; the caller decides whether the
    family allowed their use."""

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
        mask, wider = repair.damage_masks(image)
        result.damage = mask
        if mask.any():
            result.image = repair.fill(result.image, wider)
            result.actions.append(REPAIRED)
        measured = denoise.measure(result.image)
        if measured.needs_cleaning:
            report(0.08, "Smoothing grain and noise.")
            result.image = denoise.clean(result.image, measured)
            result.actions.append(DENOISED)
            result.notes.append(SMOOTHED)
        fade = levels.measure(result.image)  # after the noise is cleaned: a stretch strengthens it
        if fade.faded:
            result.image = levels.stretch(result.image, fade)
            result.actions.append(ADJUSTED)
            result.notes.append(UNFADED)
        if not (mask.any() or measured.needs_cleaning or fade.faded):
            result.notes.append(NOTHING_TO_REPAIR)

    chroma = None
    if options.colourise:
        if not tone.monochrome:
            result.notes.append(IN_COLOUR)
        else:
            own, taught = None, 0
            if options.personal_colour_seconds > 0 and references:
                report(0.09, "Learning the person's colours from their photos.")
                own, taught = _personal_colouriser(result.image, options, references, should_cancel)
            report(0.1, "Finding the colours.")
            chroma = colourise.chroma_for(
                result.image, options.hints, colouriser=own, photos=taught
            )
            result.actions.append(COLOURISED)
            result.notes.append(
                LEARNED_COLOURS if taught else HINTED_COLOURS if options.hints else GUESSED_COLOURS
            )
            if options.personal_colour_seconds > 0 and references and not taught:
                result.notes.append(NOT_FOUND)

    plainly = options.network is None and height * width > options.network_max_pixels
    if options.enlarge > 1 and plainly:  # big scans: no network (enlarge.plain), faces alike
        report(0.15, "Enlarging the photo.")
        result.image = enlarge.plain(result.image, options.enlarge)
        result.actions.append(RESIZED)
        result.notes.append(PLAIN)
    elif options.enlarge > 1:
        network = options.network or MEMORIAL
        own = None
        if options.faces == "network" and options.personal_seconds > 0 and references:
            report(0.12, "Learning the person's face from their photos.")
            own = _personal_enlarger(result.image, options, references, should_cancel)
            result.notes.append(PERSONAL if own is not None else NOT_LEARNED)
        report(0.15, "Enlarging the photo.")

        def tiles(done: int, total: int) -> None:
            report(0.15 + 0.8 * done / total, "Enlarging the photo.")

        repaired = result.image
        if network == MEMORIAL:
            from gan_engine.restore.models import enlarge_photo

            enlarged = enlarge_photo(repaired, options.enlarge, progress=tiles)
        else:
            model = enlarge.Enlarger(network)  # type: ignore[arg-type]
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
        # Faces: by the face enlarger (the person's own when learned) inside an ellipse each.
        # Memorial's enlarger already is the face enlarger; it only needs them for the person's.
        if options.faces and (network != MEMORIAL or own is not None):
            report(0.95, "Keeping the faces as they are.")
            found = face_enlarge.find_faces(repaired, options.enlarge)
            if found:
                face_enlarge.keep_faces(
                    enlarged, repaired, options.enlarge, found, options.faces, own
                )
                result.notes.append(FACES_KEPT)
            else:
                result.notes.append(NO_FACE)
        result.image = enlarged
    if chroma is not None:
        report(0.97, "Colouring the photo.")
        # In place when float32: result.image is always the pipeline's own array by now.
        ours = result.image.dtype == np.float32
        result.image = colourise.apply(result.image, chroma, in_place=ours)
    report(1.0, "Done.")
    return result


def _personal_enlarger(image, options: Options, references, should_cancel):
    """The face enlarger fine-tuned on the person in ``image`` as their colour photos show
    them, or None when no photo shows that face large enough."""
    from gan_engine.restore import personal

    person = personal.person_in(image, options.enlarge)
    if person is None:
        return None
    crops = personal.face_crops(references, person)
    if not len(crops):
        return None
    return personal.personalise(crops, options.personal_seconds, should_stop=should_cancel)


def _personal_colouriser(image, options: Options, references, should_cancel):
    """The colouriser fine-tuned on the person in ``image`` as their colour photos show them,
    and how many photos taught it; (None, 0) when no photo shows that face."""
    from gan_engine.restore import personal

    person = personal.person_in(image, 1)
    if person is None:
        return None, 0
    crops = personal.face_crops([r for r in references if not colour.tone_of(r).monochrome], person)
    if not len(crops):
        return None, 0
    net = personal.personalise_colouriser(
        crops, options.personal_colour_seconds, should_stop=should_cancel
    )
    return net, len(crops)


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
