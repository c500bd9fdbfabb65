"""Decoding recordings of every accepted format, and the mouth features they give."""

from __future__ import annotations

import numpy as np
import pytest

from gan_engine.video import audio
from gan_engine.video.motion import Motion
from tests.video.conftest import RATE, convert, syllables, write_wav


@pytest.mark.parametrize("extension", ["wav", "mp3", "m4a", "ogg", "flac"])
def test_decodes_every_format_to_mono_pcm(tmp_path, extension):
    pcm = syllables(1.0)
    source = write_wav(pcm, tmp_path / "source.wav")
    path = source if extension == "wav" else convert(source, tmp_path / f"voice.{extension}")
    decoded = audio.decode(path)
    assert decoded.dtype == np.float32 and decoded.ndim == 1
    assert abs(decoded.size - pcm.size) < 0.06 * RATE  # encoder padding only
    loud = audio.features(decoded).loudness
    assert loud[:8].max() < 0.05 and loud[12:].max() > 0.5  # the silence, then the syllables


def test_odd_rate_and_stereo_are_resampled(tmp_path):
    t = np.arange(44_100) / 44_100
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    decoded = audio.decode(write_wav(tone, tmp_path / "stereo.wav", rate=44_100, channels=2))
    assert abs(decoded.size - RATE) <= 2
    assert 0.2 < np.abs(decoded).max() < 0.5  # ffmpeg down-mixes at -3 dB per channel


def test_silence_closes_and_the_voice_opens_the_mouth():
    silent = audio.features(np.zeros(RATE, np.float32))
    assert silent.silent and silent.loudness.max() == 0
    feats = audio.features(syllables(2.0))
    base = np.array([[x, 100.0] for x in range(68)], dtype=float)
    base[36:42], base[42:48] = [80.0, 80.0], [120.0, 80.0]  # eyes 40 px apart
    motion = Motion(base, feats, seed=1)
    openings = np.array([motion.pose(frame).opening for frame in range(len(motion))])
    assert openings[:10].max() == 0  # 0.4 s of silence
    assert openings.max() > 5  # pixels of jaw drop on the syllables
    # The jaw follows the mouth shapes from the sounds (test_mouth.py: which sounds open it).
    assert np.corrcoef(openings, feats.openness)[0, 1] > 0.99


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "not a readable audio"), (b"this is not audio at all" * 50, "not a readable audio")],
)
def test_unusable_files_are_refused(tmp_path, content, message):
    path = tmp_path / "voice.mp3"
    path.write_bytes(content)
    with pytest.raises(audio.AudioError, match=message):
        audio.decode(path)


def test_empty_and_too_long_recordings_are_refused(tmp_path):
    with pytest.raises(audio.AudioError, match="empty"):
        audio.decode(write_wav(np.zeros(10, np.float32), tmp_path / "empty.wav"))
    with pytest.raises(audio.AudioError, match="limit of 1 seconds"):
        audio.decode(write_wav(syllables(2.0), tmp_path / "long.wav"), max_seconds=1)
