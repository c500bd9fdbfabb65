"""Mouth shapes from the sounds: an "ah" opens the mouth, an equally loud "mmm" keeps it closed.

The sounds are synthesised (a glottal pulse train through formant resonators, see
``tests/video/conftest.py``), so these tests need no data and say the same with or without
../shared: the model must tell the sounds apart by their spectral shape, not their loudness.
"""

from __future__ import annotations

import numpy as np
import pytest

from gan_engine.video import FPS, audio, measure, mouth
from gan_engine.video.talking import speak
from tests.video.conftest import RATE, sound, utterance, write_wav

#: Silence, then "mmm" and "ah" in turn: 0.6 s each, equally loud.
PARTS = (("", 0.4), ("mm", 0.6), ("ah", 0.6), ("mm", 0.6), ("ah", 0.6), ("mm", 0.6))


def middles(parts: tuple[tuple[str, float], ...], name: str, margin: int = 4) -> np.ndarray:
    """The frames inside each ``name`` part, ``margin`` frames away from its edges (the mouth
    anticipates the next sound, so the edges belong to both)."""
    frames, start = [], 0.0
    for part, seconds in parts:
        first, last = round(start * FPS), round((start + seconds) * FPS)
        if part == name:
            frames.extend(range(first + margin, last - margin))
        start += seconds
    return np.array(frames)


@pytest.mark.parametrize("pitch", [100.0, 220.0], ids=["low-voice", "high-voice"])
def test_ah_opens_and_an_equally_loud_mmm_stays_closed(pitch):
    pcm = np.concatenate(
        [sound(name, seconds, f0=pitch) if name else np.zeros(int(seconds * RATE), np.float32)
         for name, seconds in PARTS]
    )  # fmt: skip
    feats = audio.features(pcm)
    ah, mm, quiet = middles(PARTS, "ah"), middles(PARTS, "mm"), np.arange(0, 8)
    # Equally loud: loudness alone could not tell them apart.
    assert abs(feats.loudness[ah].mean() - feats.loudness[mm].mean()) < 0.15
    assert feats.openness[ah].min() > 0.7, feats.openness[ah]
    assert feats.openness[mm].max() < 0.2, feats.openness[mm]
    assert feats.openness[quiet].max() == 0.0  # no voice: the mouth rests


def test_the_mouth_opens_before_the_vowel_sounds():
    """Co-articulation: the jaw starts opening for the "ah" while the "mmm" still sounds."""
    feats = audio.features(utterance(*PARTS))
    onset = round((0.4 + 0.6) * FPS)  # the first "ah" begins here
    assert feats.openness[onset - 2] > feats.openness[onset - 5] + 0.2


def test_a_rendered_mmm_keeps_the_mouth_closed_and_an_ah_opens_it(tmp_path, portrait):
    voice = write_wav(utterance(*PARTS), tmp_path / "mm-ah.wav")
    result = speak(portrait, voice, tmp_path / "mm-ah.mp4", size=256)
    points, _ = measure.track(result.path)
    opening = np.array([measure.mouth_opening(p) for p in points])
    ah, mm, quiet = opening[middles(PARTS, "ah")], opening[middles(PARTS, "mm")], opening[2:8]
    # 0.08 eye distances is ~3 px on this face; the detector's noise on a still mouth is ~1 px.
    assert ah.mean() > mm.mean() + 0.08, (ah.mean(), mm.mean())
    assert abs(mm.mean() - quiet.mean()) < 0.04, (mm.mean(), quiet.mean())


def test_a_model_fitted_on_sounds_learns_which_open_the_mouth():
    """``mouth.fit`` (what ``bench/lipsync_fit.py`` runs on real clips) learns from openings."""
    rng = np.random.default_rng(0)
    clips, openings = [], []
    for _ in range(3):
        order = rng.permutation(["ah", "mm", "ee", "ah", "mm"])
        parts = tuple((name, 0.4) for name in order)
        clips.append(mouth.band_features(utterance(*parts), RATE, FPS))
        truth = np.concatenate([np.full(10, {"ah": 0.3, "ee": 0.1, "mm": 0.0}[n]) for n in order])
        openings.append(truth)
    model = mouth.fit(clips, openings)
    parts = (("mm", 0.6), ("ah", 0.6), ("ee", 0.6))
    prediction = model.predict(mouth.band_features(utterance(*parts), RATE, FPS))
    ah, mm, ee = (prediction[middles(parts, name)].mean() for name in ("ah", "mm", "ee"))
    assert ah > ee > mm


def test_the_mouth_rests_closed_around_speech_and_follows_the_sounds_in_a_pause_inside_it():
    """Before the first sound it is closed, after the last it relaxes shut within a second; in a
    short pause between words it keeps what the model reads there (real speakers hold the jaw
    half open through a breath: closing it measured worse, ``bench/lipsync_features.py``)."""
    frames = 4 * FPS
    model = np.full(frames, 0.4)
    voice = np.zeros(frames, dtype=bool)
    voice[FPS : 2 * FPS] = voice[2 * FPS + 5 : 3 * FPS] = True  # a 0.2 s pause inside
    shaped = mouth.rest(model, voice, FPS)
    assert shaped[:FPS].max() == 0.0
    assert np.allclose(shaped[FPS : 3 * FPS], 0.4)
    assert shaped[3 * FPS + FPS - 1] < 0.05  # a second after the last sound
    assert np.all(np.diff(shaped[3 * FPS - 1 :]) <= 0)
    assert mouth.rest(model, np.zeros(frames, dtype=bool), FPS).max() == 0.0
