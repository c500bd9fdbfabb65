"""Videos from a portrait and a voice recording (the talking portrait), on the CPU.

Modules, one job each: :mod:`audio` (decode + per-frame features), :mod:`face` (68 landmarks),
:mod:`motion` (landmark tracks from the features, plus idle life), :mod:`warp` (piecewise affine
mesh warp + mouth fill), :mod:`output` (``write_video``, the one door for video files) and
:mod:`talking` (the pipeline).
"""

FPS = 25
