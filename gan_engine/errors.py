"""Errors the engine raises on purpose: each names the problem in words a caller can show a user."""

from __future__ import annotations


class EngineError(Exception):
    """Base class: an expected failure with a message fit for a person, not a traceback."""


class DataError(EngineError):
    """The photos or the prepared data set cannot be used (empty, faceless, unreadable, too few)."""


class CheckpointError(EngineError):
    """A checkpoint is missing, corrupt, truncated, from another version or resolution, or unwritable."""


class DeviceError(EngineError):
    """The requested device is unknown or not available on this machine."""


class TrainingDiverged(EngineError):
    """The losses became NaN or infinite again after the allowed number of rollbacks."""


class TextEncoderError(EngineError):
    """The caption encoder cannot be loaded from local files."""


class OutOfMemory(EngineError):
    """The GPU ran out of memory even at batch size 1 (smaller batches were tried first)."""


class Cancelled(EngineError):
    """The caller asked to stop (``should_cancel`` returned True); nothing was written."""
