"""Signals, recordings and portraits for the video tests (made on the fly; real ones when present)."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from gan_engine.video.audio import ffmpeg_exe
from tests.images import SHARED_AUDIO, packaged_face, real_face_photos

RATE = 16_000


def syllables(seconds: float = 2.0, silence: float = 0.4, rate: int = RATE) -> np.ndarray:
    """A speech-like syllable train: a voiced harmonic tone in bursts of 4 per second, after
    ``silence`` seconds of silence."""
    t = np.arange(int(seconds * rate)) / rate
    voice = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 25))
    phase = (t - silence) * 4.0
    envelope = np.where(
        (t >= silence) & (phase % 1 < 0.6), np.sin(np.pi * (phase % 1) / 0.6) ** 2, 0.0
    )
    return (0.3 * voice / np.abs(voice).max() * envelope).astype(np.float32)


def write_wav(pcm: np.ndarray, path: Path, rate: int = RATE, channels: int = 1) -> Path:
    data = np.repeat((pcm * 32767).astype("<i2")[:, None], channels, axis=1)
    with wave.open(str(path), "wb") as stream:
        stream.setnchannels(channels)
        stream.setsampwidth(2)
        stream.setframerate(rate)
        stream.writeframes(data.tobytes())
    return path


def convert(source: Path, target: Path, *extra: str) -> Path:
    """Transcode with the bundled ffmpeg (the format follows the target's extension)."""
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-i", str(source), *extra, str(target)],
        check=True,
    )
    return target


@pytest.fixture(scope="session")
def portrait(tmp_path_factory) -> Path:
    """A real head-and-shoulders face photo (LFW when present beside the checkout, else the same
    framing cut from scikit-image's astronaut)."""
    photos = real_face_photos(1)
    if photos:
        return photos[0]
    path = tmp_path_factory.mktemp("portrait") / "astronaut.png"
    packaged_face().save(path)
    return path


@pytest.fixture(scope="session", params=[2.0, 5.0], ids=["2s", "5s"])
def speech(request, tmp_path_factory) -> Path:
    """A real recording (LibriSpeech/VCTK when present, else a syllable train), cut to 2 s (the
    short render) and 5 s (enough syllables for a stable lip-sync correlation)."""
    seconds = request.param
    folder = tmp_path_factory.mktemp("speech")
    clips = sorted(SHARED_AUDIO.glob("*.mp3")) if SHARED_AUDIO.is_dir() else []
    if clips:
        return convert(clips[0], folder / "speech.wav", "-t", str(seconds))
    return write_wav(syllables(seconds), folder / "speech.wav")


# The tiny person model for film tests: the engine tests' real photos, prepared data set and
# caption encoder (imported so pytest registers them here), trained for a few 16 px steps.
from tests.engine.conftest import encoder, face_photos, prepared  # noqa: E402, F401
from tests.provenance.conftest import authority, provenance  # noqa: E402, F401


@pytest.fixture(scope="session")
def tiny_model(prepared, encoder, tmp_path_factory):  # noqa: F811 - fixtures imported above
    """A 16 px, narrow model trained for 30 steps (~6 s): after 3 steps every seed still gives
    the same flat picture, after 30 the seeds differ by ~10 grey levels, enough to see a walk."""
    from gan_engine.generate import load_model
    from gan_engine.train import TrainConfig, train

    out = tmp_path_factory.mktemp("film-model") / "run"
    config = TrainConfig(
        data=str(prepared), out=str(out), resolution=16, steps=30, batch=4, width=0.25,
        z_dim=32, cond_dim=32, device="cpu", sample_every=0, min_photos=2,
    )  # fmt: skip
    train(config, encoder=encoder)
    return load_model(out, device="cpu")


#: Formants (Hz), bandwidths and gains of the synthesised sounds: the open vowel "ah" (F1 high),
#: the closed-lip nasal "mmm" (a low murmur, the upper formants nearly gone) and the spread "ee".
SOUNDS = {
    "ah": ((730, 1090, 2440), (90, 110, 160), (1.0, 1.0, 1.0)),
    "mm": ((250, 1100, 2300), (60, 200, 300), (1.0, 0.05, 0.02)),
    "ee": ((270, 2290, 3010), (60, 100, 150), (1.0, 1.0, 1.0)),
}


def sound(name: str, seconds: float, f0: float = 120.0, rate: int = RATE) -> np.ndarray:
    """A sustained voiced sound: a glottal pulse train through formant resonators (the classic
    source-filter synthesis), at the same RMS level (0.07) whatever the sound: equally loud."""
    from scipy.signal import lfilter

    formants, bandwidths, gains = SOUNDS[name]
    size = int(seconds * rate)
    source = np.zeros(size)
    source[np.arange(0, size, rate / f0).astype(int)] = 1.0
    out = np.zeros(size)
    for frequency, bandwidth, gain in zip(formants, bandwidths, gains, strict=True):
        radius = np.exp(-np.pi * bandwidth / rate)
        angle = 2 * np.pi * frequency / rate
        out += gain * lfilter([1 - radius], [1, -2 * radius * np.cos(angle), radius**2], source)
    return np.clip(0.07 * out / np.sqrt(np.mean(out**2)), -1, 1).astype(np.float32)


def utterance(*parts: tuple[str, float], rate: int = RATE) -> np.ndarray:
    """Sounds and silences ("" is silence) in a row, e.g. ``("mm", 0.6), ("ah", 0.6)``."""
    pieces = [sound(name, seconds, rate=rate) if name else np.zeros(int(seconds * rate), np.float32)
              for name, seconds in parts]  # fmt: skip
    return np.concatenate(pieces)
