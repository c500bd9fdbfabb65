"""File names in the export zip as a person would look for them.

``1998-07-04 birthday party red sweater 01.jpg``: the date when it is known, a few words of the
caption, and a counter that keeps names apart. Only letters, digits, spaces and hyphens of the
caption are kept, so a name is valid on Windows, macOS and Linux (no ``<>:"/\\|?*``, no control
characters, no trailing dot or space; the counter means no name is ever a reserved Windows
device name such as ``CON``). Names are compared without case, as Windows and macOS do.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

#: How much of a caption goes into a name: enough to recognise it, short enough for any disk.
MAX_WORDS = 6
MAX_CHARS = 48
_NOT_WORD = re.compile(r"[^\w\s-]|_")


def caption_words(text: str) -> str:
    """A short, lower-case, file-safe run of the caption's first words ("" when nothing is left)."""
    cleaned = _NOT_WORD.sub(" ", unicodedata.normalize("NFC", text or ""))
    words = " ".join(cleaned.lower().split()[:MAX_WORDS])
    return words[:MAX_CHARS].strip(" .-")


class Namer:
    """Hands out unique ``folder/stem NN.ext`` paths, counting per folder and stem."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def path(
        self,
        folder: str,
        words: str,
        suffix: str,
        *,
        date: datetime.date | None = None,
        fallback: str,
        label: str = "",
    ) -> str:
        words = caption_words(words) or caption_words(fallback) or "item"
        parts = [date.isoformat() if date else "", words, label]
        stem = " ".join(part for part in parts if part)
        key = f"{folder}/{stem}".casefold()
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        return f"{folder}/{stem} {count:02d}{suffix}"
