"""The speech-or-music check: real speech passes (LibriSpeech, VCTK and the HDTF talking clips
when ../shared is present, else a made speech-like voice), and music, noise and silence are
told apart from it, at the lengths a family uploads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gan_engine.video import audio, speech
from tests.images import SHARED_DATA
from tests.video import sounds


def _real_speech() -> list[tuple[str, np.ndarray]]:
    clips = []
    for folder, pattern in (("audio", "*.mp3"), ("talk", "*.mp4")):
        if (SHARED_DATA / folder).is_dir():
            clips += sorted((SHARED_DATA / folder).glob(pattern))
    if not clips:
        return [(f"made-{seed}", sounds.speechlike(6.0, seed=seed)) for seed in range(3)]
    return [(Path(c).name, audio.decode(c, max_seconds=60, trim=True)) for c in clips]


SPEECH = _real_speech()


@pytest.mark.parametrize("seconds", [1.0, 2.0, 3.0, None], ids=["1s", "2s", "3s", "whole"])
def test_real_speech_passes_at_every_length(seconds):
    for name, pcm in SPEECH:
        cut = pcm if seconds is None else pcm[: int(seconds * audio.SAMPLE_RATE)]
        judgement = speech.judge(cut)
        assert judgement.verdict == speech.Verdict.SPEECH, (name, judgement.as_dict())


MUSIC = {"chord": sounds.chord, "melody": sounds.melody, "drums": sounds.drums}
NOISE = {"hiss": sounds.white_noise, "rumble": sounds.brown_noise}


@pytest.mark.parametrize("seconds", [1.0, 2.0, 5.0])
@pytest.mark.parametrize("name", sorted(MUSIC))
def test_music_is_not_speech(name, seconds):
    judgement = speech.judge(MUSIC[name](seconds))
    assert judgement.verdict == speech.Verdict.MUSIC, judgement.as_dict()


@pytest.mark.parametrize("seconds", [1.0, 5.0])
@pytest.mark.parametrize("name", sorted(NOISE))
def test_noise_is_not_speech(name, seconds):
    judgement = speech.judge(NOISE[name](seconds))
    assert judgement.verdict != speech.Verdict.SPEECH, judgement.as_dict()


def test_a_melody_at_another_tempo_and_a_faster_beat_are_music():
    assert speech.judge(sounds.melody(4.0, note=0.4, seed=2)).verdict == speech.Verdict.MUSIC
    assert speech.judge(sounds.drums(4.0, beat=0.25, seed=3)).verdict == speech.Verdict.MUSIC


def test_silence_and_a_faint_hiss_are_silent():
    assert speech.judge(sounds.silence(3.0)).verdict == speech.Verdict.SILENCE
    faint = sounds.white_noise(3.0) * 10 ** (-50 / 20)
    assert speech.judge(faint).verdict == speech.Verdict.SILENCE


def test_speech_with_a_quiet_hum_behind_it_is_still_speech():
    name, pcm = SPEECH[0]
    t = np.arange(pcm.size) / audio.SAMPLE_RATE
    hummed = pcm + 0.01 * np.sin(2 * np.pi * 50 * t).astype(np.float32)
    assert speech.judge(hummed).verdict == speech.Verdict.SPEECH, name
