"""A living face: a few seconds of the person at rest without a recording, and eyes that look
about in speech and in silence."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from gan_engine.errors import EngineError
from gan_engine.video import FPS, measure
from gan_engine.video.talking import TalkingPortrait, live, load_portrait


def eye_aperture(points: np.ndarray) -> float:
    """Both eyes' lid gap over the eye distance (small when the eyes close)."""
    gap = np.linalg.norm(points[[37, 38, 43, 44]] - points[[41, 40, 47, 46]], axis=1).mean()
    return float(gap / np.linalg.norm(points[42:48].mean(0) - points[36:42].mean(0)))


def corner_lift(points: np.ndarray) -> float:
    """How far the mouth corners sit above the lips' middle, over the eye distance."""
    middle = points[[51, 57, 62, 66]].mean(0)
    corners = points[[48, 54]].mean(0)
    return float((middle[1] - corners[1]) / np.linalg.norm(points[45] - points[36]))


def test_a_living_portrait_blinks_smiles_and_keeps_the_mouth_shut(tmp_path, portrait):
    result = live(portrait, tmp_path / "living.mp4", seconds=6.0, seed=2, size=256)
    assert result.frames == 6 * FPS and not result.silent
    info = measure.probe(result.path)
    assert "Video: h264" in info and "Audio:" not in info  # no sound track to play
    points, size = measure.track(result.path)
    assert np.isfinite(points).all()  # the face is found in every frame
    opening = np.array([measure.mouth_opening(p) for p in points])
    assert opening.max() - np.median(opening) < 0.06  # no speaking movements
    apertures = np.array([eye_aperture(p) for p in points])
    # At least one blink: on a 250 px photo the eyes are ~3 px open and the detector sees a lid
    # closed by 90 % as about a third lower; open eyes stay within ~15 % of their median.
    assert apertures.min() < 0.75 * np.median(apertures)
    start = np.mean([corner_lift(p) for p in points[:20]])
    end = np.mean([corner_lift(p) for p in points[-20:]])
    # The smile has come and stayed (before it, 20-frame means wander by ~0.006).
    assert end > start + 0.015, (start, end)
    assert measure.jitter(points, size) < 1.0


@pytest.mark.parametrize("seconds", [0.0, 60.0])
def test_a_living_portrait_of_no_length_or_too_long_is_refused(tmp_path, portrait, seconds):
    with pytest.raises(EngineError, match="at most 15 s"):
        live(portrait, tmp_path / "living.mp4", seconds=seconds)
    assert not list(tmp_path.iterdir())


def dark_centre(frame: np.ndarray, points: np.ndarray) -> float:
    """The darkness-weighted mean x of both eyes' openings (the irises), from each eye's middle."""
    offsets = []
    for eye in (slice(36, 42), slice(42, 48)):
        mask = np.zeros(frame.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(points[eye]).astype(np.int32)], 1)
        ys, xs = np.nonzero(mask)
        darkness = 255.0 - frame[ys, xs].mean(axis=1)
        offsets.append(float((xs * darkness).sum() / darkness.sum() - points[eye, 0].mean()))
    return float(np.mean(offsets))


def test_the_eyes_look_about_and_nothing_else_moves_with_them(portrait):
    render = TalkingPortrait(load_portrait(portrait), np.zeros(6 * 16_000, np.float32), seed=1,
                             size=256)  # fmt: skip
    across = render.motion.gaze[:, 0]
    assert np.ptp(across) > 0.03  # the gaze wanders, in silence too
    frame = int(np.argmax(np.abs(across)))
    pose = render.motion.pose(frame)
    looking = render.warp.render(pose)
    ahead = render.warp.render(dataclasses.replace(pose, pupils=None))  # the same pose, no gaze
    changed = np.abs(looking.astype(int) - ahead.astype(int)).sum(axis=2) > 0
    eyes = np.zeros(changed.shape, np.uint8)
    for eye in (slice(36, 42), slice(42, 48)):
        cv2.fillPoly(eyes, [np.round(pose.points[eye]).astype(np.int32)], 1)
    eyes = cv2.dilate(eyes, np.ones((3, 3), np.uint8)).astype(bool)
    assert changed.sum() > 10 and not (changed & ~eyes).any()  # only the eyes' insides move
    moved = dark_centre(looking, pose.points) - dark_centre(ahead, pose.points)
    assert np.sign(moved) == np.sign(across[frame]), (moved, across[frame])


def test_command_line_live(tmp_path, portrait, capsys):
    from gan_engine.cli import main

    out = tmp_path / "living.mp4"
    assert main(["live", str(portrait), "-o", str(out), "--seconds", "1", "--size", "128"]) == 0
    assert out.is_file() and "25 frames" in capsys.readouterr().out
    assert main(["live", str(portrait), "-o", str(tmp_path / "long.mp4"), "--seconds", "99"]) == 2
    assert "at most 15 s" in capsys.readouterr().err and not (tmp_path / "long.mp4").exists()
