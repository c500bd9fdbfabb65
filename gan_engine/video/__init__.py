"""Videos on the CPU: a portrait speaking a voice recording, and latent-walk films of a model.

Modules, one job each: :mod:`audio` (decode + per-frame features), :mod:`face` (68 landmarks),
:mod:`motion` (landmark tracks from the features, plus idle life), :mod:`warp` (piecewise affine
mesh warp + mouth fill), :mod:`output` (``write_video``, the one door for video files),
:mod:`stamp` (visible mark and watermark on frames), :mod:`control` (cancel and preview),
:mod:`talking` (the talking-portrait pipeline), :mod:`film` (the latent-walk film),
:mod:`measure` (quality figures) and :mod:`readback` (provenance read back from an MP4).
"""

FPS = 25
