"""Real faces and generated voice-like recordings for the video product tests (bytes, on the fly;
LibriSpeech/VCTK and LFW from ../shared/data when present)."""

from __future__ import annotations

import io
import subprocess
import tempfile
import wave
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from tests.images import SHARED_AUDIO

RATE = 16_000


@cache
def face_jpeg() -> bytes:
    """A real frontal face (scikit-image's astronaut), head and shoulders, as a family photo."""
    from skimage import data

    picture = Image.fromarray(data.astronaut()).crop((60, 0, 400, 340)).resize((320, 320))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def syllables(seconds: float = 2.0, silence: float = 0.3, rate: int = RATE) -> np.ndarray:
    """A speech-like voice (gliding pitch, uneven syllables, consonant hiss) after some silence:
    it passes the speech-or-music check as a real voice does (tests.video.sounds)."""
    from tests.video.sounds import RATE as MADE_RATE
    from tests.video.sounds import speechlike

    pcm = speechlike(seconds, pause=silence)
    if rate == MADE_RATE:
        return pcm
    return np.interp(np.arange(int(seconds * rate)) * MADE_RATE / rate, np.arange(pcm.size), pcm)


def wav_bytes(pcm: np.ndarray, rate: int = RATE, channels: int = 1) -> bytes:
    data = np.repeat((np.clip(pcm, -1, 1) * 32767).astype("<i2")[:, None], channels, axis=1)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as stream:
        stream.setnchannels(channels)
        stream.setsampwidth(2)
        stream.setframerate(rate)
        stream.writeframes(data.tobytes())
    return buffer.getvalue()


def voice_wav(seconds: float = 2.0) -> bytes:
    """A real recording cut to ``seconds`` when the shared clips are present, else syllables."""
    clips = sorted(SHARED_AUDIO.glob("*.mp3")) if SHARED_AUDIO.is_dir() else []
    if clips:
        from gan_engine.video.audio import ffmpeg_exe

        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "voice.wav"
            subprocess.run(
                [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-i", str(clips[0]),
                 "-t", str(seconds), "-ac", "1", "-ar", str(RATE), str(out)],
                check=True,
            )  # fmt: skip
            return out.read_bytes()
    return wav_bytes(syllables(seconds))


def transcode(wav: bytes, suffix: str) -> bytes:
    """The same recording in another container/codec (by file ending), with the bundled ffmpeg."""
    from gan_engine.video.audio import ffmpeg_exe

    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "in.wav", Path(folder) / f"out{suffix}"
        source.write_bytes(wav)
        subprocess.run(
            [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-i", str(source), str(target)],
            check=True,
        )
        return target.read_bytes()


def scene(family) -> dict:
    """For the permission matrix: consent for videos and voice, one finished video (vid)."""
    from django.core.files.base import ContentFile

    from memorial.consent.models import ConsentRecord, Scope, Status
    from memorial.videos.models import Video, VideoKind

    ConsentRecord.objects.create(
        memorial=family.memorial,
        attester_name="Olive Owner",
        relationship="daughter",
        basis="next_of_kin",
        scopes=[Scope.GENERATED_VIDEOS, Scope.VOICE],
        status=Status.APPROVED,
    )
    video = Video(memorial=family.memorial, kind=VideoKind.TALKING, duration=2.0, width=64,
                  height=64)  # fmt: skip
    video.file.save("video.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42" + bytes(200)), save=False)
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "gray").save(buffer, "PNG")
    video.poster.save("poster.png", ContentFile(buffer.getvalue()), save=False)
    video.save()
    return {"vid": video.pk}
