"""Read provenance back from an MP4: recognise the container and decode the watermarked frames.

For the "Verify a file" page, which runs in the web process: plain Python, Pillow and the ffmpeg
binary bundled in ``imageio-ffmpeg``; no torch, no OpenCV. Only the frames that
:func:`gan_engine.video.output.write_video` watermarks (0, k, 2k, ...) are decoded, with a time
limit, from a temporary copy of the upload.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from PIL import Image

#: The same interval as :data:`gan_engine.video.stamp.WATERMARK_EVERY` (kept here so this module
#: does not import OpenCV through ``stamp``; a test checks they agree).
WATERMARK_EVERY = 12
#: Longest time ffmpeg may take to decode the sample frames of an upload.
TIMEOUT_SECONDS = 30


def is_mp4(data: bytes) -> bool:
    """True for an ISO base media file (MP4, MOV, M4V): its first box is ``ftyp``."""
    return len(data) >= 12 and data[4:8] == b"ftyp"


def watermark_frames(
    data: bytes, count: int = 3, max_pixels: int = 50_000_000
) -> list[Image.Image]:
    """Up to ``count`` of the watermarked frames (0, k, 2k, ...) of the video in ``data``, as RGB
    images; an empty list when ffmpeg cannot decode it in time or a frame is too large."""
    from gan_engine.video.audio import ffmpeg_exe

    with tempfile.TemporaryDirectory(prefix="memorial-verify-") as folder:
        source = Path(folder) / "upload.mp4"
        source.write_bytes(data)
        command = [
            ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(source), "-an",
            "-vf", f"select=not(mod(n\\,{WATERMARK_EVERY}))", "-fps_mode", "passthrough",
            "-frames:v", str(count), str(Path(folder) / "frame-%02d.png"),
        ]  # fmt: skip
        try:
            subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            return []
        frames = []
        for path in sorted(Path(folder).glob("frame-*.png")):
            with Image.open(path) as picture:
                if picture.width * picture.height > max_pixels:
                    return []
                frames.append(picture.convert("RGB"))
        return frames
