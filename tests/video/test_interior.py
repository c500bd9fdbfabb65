"""Their own mouth: a photo of the person with the mouth open lends its inside to the video."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from gan_engine.video import interior, motion
from gan_engine.video.face import find_faces
from gan_engine.video.talking import TalkingPortrait, load_portrait, readable, speak
from tests.images import another_person
from tests.video.conftest import utterance, write_wav

GREEN_TINT = np.array([0.55, 1.3, 0.55])
#: An "ah" long enough for the jaw to open fully, after a short silence.
AH = (("", 0.4), ("ah", 1.2))


def green_share(frame: np.ndarray, points: np.ndarray) -> float:
    """The share of the inner mouth's pixels that are greener than red and blue (no lip, skin,
    tooth or shadow is; the colour matching makes the borrowed green paler, not less green)."""
    mask = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points[60:68]).astype(np.int32)], 1)
    pixels = frame[mask.astype(bool)].astype(int)
    greenish = (pixels[:, 1] > pixels[:, 0] + 10) & (pixels[:, 1] > pixels[:, 2] + 10)
    return float(greenish.mean()) if len(pixels) else 0.0


def widest(render: TalkingPortrait) -> int:
    return int(np.argmax(render.features.openness))


def closed_and_open(photo: np.ndarray, monkeypatch) -> tuple[np.ndarray, np.ndarray]:
    """The same person twice: with the mouth closed (a silent frame of a render, which shuts the
    photo's mouth) and with it wide open, its inside tinted green (an "ah" frame of a render with
    the jaw dropped twice as far as speech drops it; tinted, not painted over, so that the lips'
    edges stay findable)."""
    closed = next(iter(TalkingPortrait(photo, np.zeros(8000, np.float32), size=256).frames()))
    with monkeypatch.context() as patch:
        patch.setattr(motion, "MAX_JAW", 2 * motion.MAX_JAW)
        render = TalkingPortrait(photo, utterance(*AH), size=256)
        lender = np.array(list(render.frames())[widest(render)])
    points = find_faces(lender)[0].points
    assert interior.opening(points) >= interior.MIN_OPENING  # open enough to lend its inside
    assert interior.opening(find_faces(closed)[0].points) < interior.MIN_OPENING
    mask = np.zeros(lender.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points[60:68]).astype(np.int32)], 1)
    inside = mask.astype(bool)
    lender[inside] = (lender[inside] * GREEN_TINT + [0, 40, 0]).clip(0, 255)
    return np.array(closed), lender


def test_a_photo_with_the_mouth_open_fills_the_video(portrait, monkeypatch):
    closed, lender = closed_and_open(load_portrait(portrait), monkeypatch)
    voice = utterance(*AH)
    own = TalkingPortrait(closed, voice, size=256, mouth_photos=[lender])
    painted = TalkingPortrait(closed, voice, size=256)
    assert own.interior is not None and own.interior.source == 1  # the lender, not the portrait
    assert painted.interior is None
    frame = widest(own)
    points = own.motion.pose(frame).points
    with_photo = green_share(own.warp.render(own.motion.pose(frame)), points)
    without = green_share(painted.warp.render(painted.motion.pose(frame)), points)
    assert with_photo > 0.2 and without == 0.0, (with_photo, without)
    # At rest the mouth is the portrait's own: nothing borrowed shows.
    assert green_share(own.warp.render(own.motion.pose(2)), own.motion.pose(2).points) == 0.0


def test_another_persons_open_mouth_is_not_borrowed(portrait, monkeypatch):
    closed, _ = closed_and_open(load_portrait(portrait), monkeypatch)
    _, stranger = closed_and_open(np.asarray(another_person()), monkeypatch)  # open, tinted
    render = TalkingPortrait(closed, utterance(*AH), size=256, mouth_photos=[stranger])
    assert render.interior is None  # the painted cavity, not someone else's teeth


def test_a_closed_mouth_lends_nothing(portrait):
    image = load_portrait(portrait)
    points = find_faces(image)[0].points.copy()
    points[[65, 66, 67]] = points[[63, 62, 61]]  # inner lips together
    assert interior.extract(image, points) is None
    assert interior.best_interior([(image, points)], (image, points)) is None


def test_colours_are_matched_to_the_portrait():
    """A lender photographed in bluer light gives teeth nearer to the portrait's light."""
    rng = np.random.default_rng(0)
    texture = rng.integers(120, 200, (interior.HEIGHT, interior.WIDTH, 3)).astype(np.uint8)
    lips = rng.normal([170, 90, 90], 8, (200, 3)).clip(0, 255).astype(np.uint8)
    cast = np.array([0.75, 0.95, 1.25])  # bluer light: the white balance of another camera

    def in_blue(pixels: np.ndarray) -> np.ndarray:
        return (pixels * cast).clip(0, 255).astype(np.uint8)

    matched = interior.match_colours(in_blue(texture), in_blue(lips), lips)
    before = np.abs(in_blue(texture).astype(int).mean((0, 1)) - texture.mean((0, 1))).max()
    after = np.abs(matched.astype(int).mean((0, 1)) - texture.mean((0, 1))).max()
    assert after < before / 3, (before, after)


def test_unreadable_mouth_photos_are_skipped(tmp_path, portrait):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a picture")
    Image.open(portrait).save(tmp_path / "fine.png")
    photos = readable([broken, tmp_path / "missing.jpg", tmp_path / "fine.png"])
    assert len(photos) == 1 and photos[0][0] == 2 and photos[0][1].shape[2] == 3


def test_speak_says_which_photo_lent_its_mouth(tmp_path, portrait, monkeypatch):
    closed, lender = closed_and_open(load_portrait(portrait), monkeypatch)
    Image.fromarray(closed).save(tmp_path / "portrait.png")
    Image.fromarray(lender).save(tmp_path / "laughing.png")
    (tmp_path / "broken.jpg").write_bytes(b"not a picture")
    voice = write_wav(utterance(*AH), tmp_path / "ah.wav")
    photos = [tmp_path / "broken.jpg", tmp_path / "laughing.png"]
    result = speak(tmp_path / "portrait.png", voice, tmp_path / "ah.mp4", size=256,
                   mouth_photos=photos)  # fmt: skip
    assert result.mouth_photo == 1 and result.path.is_file()
    alone = speak(tmp_path / "portrait.png", voice, tmp_path / "alone.mp4", size=256)
    assert alone.mouth_photo is None
