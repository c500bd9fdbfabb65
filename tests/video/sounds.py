"""Made sounds for the speech-or-music check: music-like signals (a chord, a melody of tones, a
drum-like pulse train), noise, silence, and a speech-like voice (gliding pitch, uneven
syllables, consonant hiss) that stands in for a real recording when ../shared is absent."""

from __future__ import annotations

import numpy as np

RATE = 16_000


def _normal(pcm: np.ndarray, peak: float = 0.3) -> np.ndarray:
    return (peak * pcm / max(float(np.abs(pcm).max()), 1e-9)).astype(np.float32)


def _tone(frequency: float | np.ndarray, t: np.ndarray, harmonics: int = 8) -> np.ndarray:
    phase = 2 * np.pi * np.cumsum(np.broadcast_to(frequency, t.shape)) / RATE
    return sum(np.sin(k * phase) / k for k in range(1, harmonics + 1))


def chord(seconds: float = 5.0) -> np.ndarray:
    """C major held (an organ or a pad)."""
    t = np.arange(int(seconds * RATE)) / RATE
    return _normal(sum(_tone(f, t) for f in (261.6, 329.6, 392.0)))


def melody(seconds: float = 5.0, note: float = 0.25, seed: int = 0) -> np.ndarray:
    """A tune of plucked notes from a C major scale, each ``note`` seconds long."""
    rng = np.random.default_rng(seed)
    scale = (262, 294, 330, 349, 392, 440, 494, 523)
    t = np.arange(int(seconds * RATE)) / RATE
    start = np.floor(t / note) * note
    pitches = np.array(scale)[rng.integers(len(scale), size=int(seconds / note) + 1)]
    frequency = pitches[(start / note).round().astype(int)]
    return _normal(_tone(frequency, t) * np.exp(-(t - start) * 3))


def drums(seconds: float = 5.0, beat: float = 0.5, seed: int = 0) -> np.ndarray:
    """A kick drum (a falling low tone) with a snare's hiss on every beat."""
    rng = np.random.default_rng(seed)
    pcm = np.zeros(int(seconds * RATE))
    length = int(0.3 * RATE)
    t = np.arange(length) / RATE
    hit = np.sin(2 * np.pi * np.cumsum(60 + 80 * np.exp(-t * 30)) / RATE)
    for start in range(0, pcm.size - length, int(beat * RATE)):
        snare = 0.5 * rng.standard_normal(length) * np.exp(-t * 40)
        pcm[start : start + length] += (hit + snare) * np.exp(-t * 12)
    return _normal(pcm)


def white_noise(seconds: float = 5.0, seed: int = 0) -> np.ndarray:
    return _normal(np.random.default_rng(seed).standard_normal(int(seconds * RATE)), 0.2)


def brown_noise(seconds: float = 5.0, seed: int = 0) -> np.ndarray:
    """Rumble (wind on a microphone): noise whose energy falls with frequency."""
    walk = np.cumsum(np.random.default_rng(seed).standard_normal(int(seconds * RATE)))
    return _normal(walk - np.convolve(walk, np.ones(400) / 400, mode="same"), 0.2)


def silence(seconds: float = 5.0) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


def speechlike(seconds: float = 2.0, seed: int = 0, pause: float = 0.3) -> np.ndarray:
    """Syllables of uneven length (0.12-0.3 s), each a vowel whose pitch glides (a falling or
    rising contour over a slow declination), some opened by a consonant's hiss, after
    ``pause`` seconds of quiet: the properties the check relies on, none of them a note."""
    rng = np.random.default_rng(seed)
    pcm = np.zeros(int(seconds * RATE))
    at = int(pause * RATE)
    while at < pcm.size:
        length = int(rng.uniform(0.12, 0.3) * RATE)
        t = np.arange(length) / RATE
        base = 150 - 30 * at / pcm.size
        contour = base * (
            1 + rng.choice((-0.3, 0.3)) * t / t[-1] + 0.03 * np.sin(2 * np.pi * 9 * t)
        )
        vowel = _tone(contour, t, harmonics=20) * np.sin(np.pi * t / t[-1]) ** 2
        if rng.random() < 0.5:  # a consonant's hiss before the vowel
            hiss = np.diff(rng.standard_normal(int(0.05 * RATE) + 1)) * 0.3
            vowel = np.concatenate([hiss, vowel])
        end = min(pcm.size, at + vowel.size)
        pcm[at:end] = vowel[: end - at]
        at = end + int(rng.uniform(0.02, 0.2) * RATE)
    return _normal(pcm)
