"""Cancel checks and live preview frames for any video render (talking portrait, film)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from gan_engine.errors import Cancelled


def watched(
    frames: Iterable[np.ndarray],
    *,
    fps: int,
    should_cancel: Callable[[], bool] | None = None,
    preview: Callable[[np.ndarray], None] | None = None,
) -> Iterator[np.ndarray]:
    """``frames`` with a cancel check before each one (raises :class:`Cancelled`) and every
    ``fps``-th frame (about once a second of video) handed to ``preview``."""
    for index, frame in enumerate(frames):
        if should_cancel is not None and should_cancel():
            raise Cancelled("the video was cancelled")
        if preview is not None and index % fps == 0:
            preview(frame)
        yield frame
