"""Provenance on every video: the visible mark in its corner, the invisible watermark read back
from decoded MP4 frames, a C2PA manifest that is trusted with the instance CA and invalid after one
changed byte; plus cancel, live preview and the face list of the talking portrait."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from gan_engine.errors import Cancelled
from gan_engine.provenance import verify
from gan_engine.provenance.c2pa_sign import TRAINED_ALGORITHMIC_MEDIA
from gan_engine.provenance.mark import burn_mark
from gan_engine.provenance.watermark import Payload, bit_accuracy, decode, detect
from gan_engine.video import measure, stamp
from gan_engine.video.output import write_video
from gan_engine.video.talking import list_faces, speak
from tests.video.conftest import syllables, write_wav

PAYLOAD = Payload.for_ids("instance-test", "job-1/seed-7")


def flip_media_byte(data: bytes) -> bytes:
    """``data`` with one byte in the middle of the ``mdat`` box (the coded frames) changed."""
    at = data.index(b"mdat")
    size = int.from_bytes(data[at - 4 : at], "big")
    middle = at + size // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    return write_wav(syllables(2.0), tmp_path_factory.mktemp("voice") / "voice.wav")


@pytest.fixture(scope="module")
def talking(tmp_path_factory, portrait, voice, authority):
    """The same 2 s talking portrait at 256 px with and without provenance (top-left mark)."""
    from gan_engine.provenance import Provenance, SignerMaterial

    chosen = Provenance(
        instance_id="instance-test",
        instance_name="Test Memorial instance",
        signer=SignerMaterial(chain=authority.chain, key=authority.sign_key),
        item_id="job-1/seed-7",
        model_version="mv-42",
        consent_id="consent-9",
        mark="top-left",
    )
    folder = tmp_path_factory.mktemp("talking")
    plain = speak(portrait, voice, folder / "plain.mp4", size=256)
    signed = speak(portrait, voice, folder / "signed.mp4", size=256, provenance=chosen)
    return plain, signed


def test_signed_video_is_trusted_and_says_what_it_is(talking, authority):
    _plain, signed = talking
    data = signed.path.read_bytes()
    result = verify(data, "video/mp4", authority.ca_cert)
    assert result.verdict == "trusted", result.failures
    assert result.generation == {
        "instance": "instance-test",
        "item": "job-1/seed-7",
        "model_version": "mv-42",
        "consent": "consent-9",
    }
    [actions] = [a for a in result.manifest["assertions"] if a["label"].startswith("c2pa.actions")]
    [created] = actions["data"]["actions"]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    assert verify(data, None, authority.ca_cert).verdict == "trusted"  # sniffed as MP4
    assert verify(flip_media_byte(data), "video/mp4", authority.ca_cert).verdict == "invalid"
    assert verify(talking[0].path.read_bytes(), "video/mp4", authority.ca_cert).verdict == "none"


def test_signed_video_still_plays(talking):
    import subprocess

    from gan_engine.video.audio import ffmpeg_exe

    decoded = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(talking[1].path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert decoded.stderr == ""
    assert "Audio: aac" in measure.probe(talking[1].path)


def test_watermark_reads_back_from_decoded_frames(talking):
    plain, signed = talking
    frames = list(measure.read_frames(signed.path))
    assert len(frames) == signed.frames
    marked = [i for i in range(len(frames)) if stamp.is_watermarked(i)]
    assert marked == list(range(0, len(frames), stamp.WATERMARK_EVERY))
    assert decode(Image.fromarray(frames[0])) == PAYLOAD  # the first frame reads back exactly
    for index in marked:  # every marked frame: 95 % of bits or more, and detected
        picture = Image.fromarray(frames[index])
        assert bit_accuracy(picture, PAYLOAD) >= 0.95, index
        assert detect(picture, "instance-test")[0], index
    unmarked = Image.fromarray(next(measure.read_frames(plain.path)))
    assert decode(unmarked) is None and not detect(unmarked, "instance-test")[0]


def test_mark_is_visible_in_the_chosen_corner(talking):
    plain, signed = talking
    a = list(measure.read_frames(plain.path))[1]
    b = list(measure.read_frames(signed.path))[1].astype(np.int16)  # an unwatermarked frame
    a = np.asarray(Image.fromarray(a).resize(signed.size, Image.Resampling.LANCZOS), np.int16)
    diff = np.abs(a - b).sum(axis=2)
    grey = Image.new("RGB", signed.size, (128, 128, 128))
    plate = np.asarray(burn_mark(grey, "top-left"), np.int16).sum(axis=2) != 3 * 128
    ys, xs = np.nonzero(plate)
    assert ys.max() < signed.size[1] // 8 and xs.max() < signed.size[0] // 2  # top-left
    assert diff[plate].mean() > 60, diff[plate].mean()  # the dark plate and white text
    assert diff[~plate].mean() < 10, diff[~plate].mean()  # elsewhere: coding noise, idle motion


def test_small_frames_are_upscaled_for_the_watermark_and_unsigned_is_allowed(tmp_path, provenance):
    frames = [np.full((64, 96, 3), 90 + i, np.uint8) for i in range(3)]
    out = write_video(frames, tmp_path / "v.mp4", provenance=replace(provenance, signer=None))
    decoded = list(measure.read_frames(out))
    assert decoded[0].shape == (256, 384, 3)
    assert verify(out.read_bytes(), "video/mp4", None).verdict == "none"
    assert stamp.marked_size(512, 300) == (512, 300) and stamp.marked_size(63, 64)[0] % 2 == 0


def test_speak_cancel_leaves_no_file_and_preview_sees_frames(tmp_path, portrait, voice):
    polls: list[int] = []
    with pytest.raises(Cancelled):
        speak(
            portrait,
            voice,
            tmp_path / "out.mp4",
            size=128,
            should_cancel=lambda: polls.append(1) or len(polls) > 5,
        )
    assert list(tmp_path.iterdir()) == []
    previews: list[np.ndarray] = []
    result = speak(portrait, voice, tmp_path / "ok.mp4", size=128, preview=previews.append)
    assert len(previews) == 2  # 2 s at 25 fps: about once a second
    assert previews[0].shape == (result.size[1], result.size[0], 3)


def test_list_faces_gives_boxes_largest_first(portrait, tmp_path):
    faces = list_faces(portrait)
    assert faces and set(faces[0]) == {"x", "y", "w", "h"}
    assert all(f["w"] > 0 and f["h"] > 0 for f in faces)
    image = Image.open(portrait).convert("RGB")
    pair = Image.new("RGB", (image.width * 2, image.height), (128, 128, 128))
    pair.paste(image, (0, 0))
    pair.paste(image.resize((image.width * 3 // 4, image.height * 3 // 4)), (image.width, 0))
    pair.save(tmp_path / "two.png")
    two = list_faces(tmp_path / "two.png")
    assert len(two) == 2 and two[0]["w"] > two[1]["w"] and two[0]["x"] < image.width
