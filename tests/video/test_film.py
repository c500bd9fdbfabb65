"""Latent-walk films from a tiny trained model: real MP4s, keyframes on time, deterministic,
cancellable, sound and photo cross-fades, and clear refusals."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from PIL import Image

from gan_engine.errors import Cancelled
from gan_engine.generate import generate
from gan_engine.provenance import verify
from gan_engine.provenance.watermark import Payload, decode
from gan_engine.video import audio, film, measure
from gan_engine.video.film import FilmError, make_film
from tests.video.conftest import syllables, write_wav


def duration(info: str) -> float:
    found = re.search(r"Duration: (\d+):(\d+):([\d.]+)", info)
    assert found, info
    return 60 * float(found.group(2)) + float(found.group(3))


def frames_of(path) -> list[np.ndarray]:
    return list(measure.read_frames(path))


def test_film_is_a_browser_mp4_with_the_keyframes_on_their_frames(tiny_model, tmp_path):
    out = tmp_path / "film.mp4"
    seen: list[tuple[int, int]] = []
    previews: list[np.ndarray] = []
    result = make_film(
        tiny_model,
        out,
        seeds=[1, 2, 3],
        seconds=2.0,
        fps=24,
        size=32,
        progress=lambda done, total: seen.append((done, total)),
        preview=previews.append,
    )
    assert result.frames == 48 and result.seconds == 2.0 and result.size == (32, 32)
    assert not list(tmp_path.glob(".*.tmp"))
    decoded = subprocess.run(
        [audio.ffmpeg_exe(), "-v", "error", "-i", str(out), "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert decoded.stderr == ""
    info = measure.probe(out)
    assert re.search(r"Video: h264.*yuv420p.*24 fps", info), info
    assert re.search(r"memorial:generated: true", info)
    assert re.search(r"memorial:kind\s*: film", info)
    assert abs(duration(info) - 2.0) <= 1 / 24
    assert seen[-1] == (48, 48) and len(seen) == 48
    assert len(previews) == 2 and previews[0].shape == (32, 32, 3)  # about once a second

    # The keyframes land on frames 0, 24 and 47 exactly: the same pixels as generate() gives
    # for those seeds (up to one level: the walk runs the generator in channels-last layout).
    keys = film.key_positions(3, 48)
    assert keys == (0, 24, 47)
    path = film.plan(tiny_model, 48, [1, 2, 3], None, 0.8)
    walked = list(film.walk(tiny_model, path, 16))
    stills = generate(tiny_model, tmp_path / "stills", seeds=[1, 2, 3], truncation=0.8)
    for key, still in zip(keys, stills, strict=True):
        expected = np.asarray(Image.open(still).convert("RGB"), np.int16)
        assert np.abs(walked[key].astype(np.int16) - expected).max() <= 1
    assert not np.array_equal(walked[12], walked[0]) and not np.array_equal(walked[12], walked[24])
    # In the MP4, each keyframe's decoded frame is nearest to its own still.
    video = frames_of(out)
    assert len(video) == 48
    small = [np.asarray(Image.fromarray(video[k]).resize((16, 16)), np.float32) for k in keys]
    for index, frame in enumerate(small):
        distances = [np.abs(frame - walked[k].astype(np.float32)).mean() for k in keys]
        assert int(np.argmin(distances)) == index, distances


def test_same_arguments_give_the_same_frames(tiny_model, tmp_path):
    first = make_film(tiny_model, tmp_path / "a.mp4", seeds=[4, 5], seconds=1.0, size=32)
    again = make_film(tiny_model, tmp_path / "b.mp4", seeds=[4, 5], seconds=1.0, size=32)
    other = make_film(tiny_model, tmp_path / "c.mp4", seeds=[4, 6], seconds=1.0, size=32)
    a, b, c = (frames_of(result.path) for result in (first, again, other))
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_one_keyframe_per_caption(tiny_model, encoder, tmp_path):
    path = film.plan(
        tiny_model, 30, None, ["smiling", "in a garden", "as a young man"], 0.8, encoder
    )
    assert path.z.shape[0] == 3 and path.key_frames == (0, 14, 29)
    assert np.array_equal(path.z[0].numpy(), path.z[2].numpy())  # one face (seed 0)...
    assert not np.array_equal(path.text[0].numpy(), path.text[1].numpy())  # ...three situations
    result = make_film(
        tiny_model,
        tmp_path / "captions.mp4",
        captions=["smiling", "serious"],
        seconds=1.0,
        fps=30,
        encoder=encoder,
    )
    assert result.frames == 30 and re.search(r"30 fps", measure.probe(result.path))


def test_music_is_trimmed_or_padded_to_the_film(tiny_model, tmp_path):
    short = write_wav(syllables(1.0), tmp_path / "short.wav")
    long = write_wav(syllables(4.0), tmp_path / "long.wav")
    for name, track in (("padded", short), ("trimmed", long)):
        out = make_film(
            tiny_model,
            tmp_path / f"{name}.mp4",
            seeds=[1, 2],
            seconds=2.0,
            audio_path=track,
            size=32,
        ).path
        info = measure.probe(out)
        assert re.search(r"Audio: aac", info), info
        assert abs(duration(info) - 2.0) <= 1 / 24 + 0.03, info  # AAC frame padding
    with pytest.raises(audio.AudioError, match="not a readable audio"):
        bad = tmp_path / "bad.mp3"
        bad.write_bytes(b"not audio" * 100)
        make_film(tiny_model, tmp_path / "bad.mp4", seeds=[1], seconds=1.0, audio_path=bad)
    assert not (tmp_path / "bad.mp4").exists()


def test_cross_fade_from_and_to_a_real_photo(tiny_model, portrait, tmp_path):
    path = film.plan(tiny_model, 24, [1, 2], None, 0.8)
    photo = film.load_photo(portrait, 64)
    assert photo.shape == (64, 64, 3)
    plain = list(film.walk(tiny_model, path, 64))
    faded = list(film.crossfade(iter(plain), 24, 6, photo, photo[::-1].copy()))
    assert np.array_equal(faded[0], photo)  # starts on the photo
    assert np.array_equal(faded[-1], photo[::-1])  # ends on the other photo
    assert np.array_equal(faded[12], plain[12])  # the middle is the walk
    weights = [np.abs(f.astype(float) - photo).mean() for f in faded[:7]]
    assert weights == sorted(weights)  # fades out smoothly
    result = make_film(
        tiny_model,
        tmp_path / "fade.mp4",
        seeds=[1, 2],
        seconds=1.0,
        size=64,
        start_image=portrait,
        end_image=portrait,
        crossfade_seconds=0.25,
    )
    first = frames_of(result.path)[0].astype(np.float32)
    assert np.abs(first - photo).mean() < 8  # the aligned photo, through the encoder
    with pytest.raises(FilmError, match="not a readable image"):
        make_film(
            tiny_model,
            tmp_path / "x.mp4",
            seeds=[1],
            seconds=1.0,
            start_image=tmp_path / "missing.jpg",
        )
    assert not (tmp_path / "x.mp4").exists()


def test_cancel_leaves_no_file(tiny_model, tmp_path):
    polls = []

    def should_cancel() -> bool:
        polls.append(1)
        return len(polls) > 10

    with pytest.raises(Cancelled):
        make_film(
            tiny_model,
            tmp_path / "film.mp4",
            seeds=[1, 2],
            seconds=2.0,
            should_cancel=should_cancel,
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "needs keyframes: give at least one seed or one caption"),
        ({"seeds": [1], "fps": 25}, "must be 24 or 30 frames per second, not 25"),
        ({"seeds": [1], "seconds": 600}, "at most 120 seconds, not 600"),
        ({"seeds": [1], "seconds": 0}, "more than 0"),
        ({"seeds": list(range(20)), "seconds": 1}, "20 keyframes need at least 40 frames"),
        (
            {"seeds": [1], "seconds": 1, "start_image": "a.jpg", "crossfade_seconds": 2},
            "cross-fades are longer than the film",
        ),
        ({"seeds": [1], "size": 33}, "even number of pixels"),
        ({"seeds": [1], "truncation": 1.5}, "truncation must be in"),
    ],
)
def test_bad_requests_are_refused_clearly(tiny_model, tmp_path, arguments, message):
    with pytest.raises(FilmError, match=re.escape(message)):
        make_film(tiny_model, tmp_path / "film.mp4", **arguments)
    assert list(tmp_path.iterdir()) == []


def test_film_with_provenance_is_marked_watermarked_and_signed(
    tiny_model, tmp_path, provenance, authority
):
    result = make_film(
        tiny_model, tmp_path / "film.mp4", seeds=[1, 2], seconds=1.0, provenance=provenance
    )
    assert result.size == (256, 256)  # upscaled for the watermark
    check = verify(result.path.read_bytes(), "video/mp4", authority.ca_cert)
    assert check.verdict == "trusted", check.failures
    assert check.generation["consent"] == "consent-9"
    frame = frames_of(result.path)[0]
    assert decode(Image.fromarray(frame)) == Payload.for_ids("instance-test", "job-1/seed-7")


def test_command_line_film(tiny_model, tmp_path, capsys):
    from gan_engine.cli import main

    out = tmp_path / "film.mp4"
    run = str(tiny_model.checkpoint.parent)
    assert (
        main(
            [
                "film",
                run,
                "-o",
                str(out),
                "--seeds",
                "1,2",
                "--seconds",
                "1",
                "--size",
                "32",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    assert out.is_file() and "24 frames" in capsys.readouterr().out
    code = main(["film", run, "-o", str(tmp_path / "bad.mp4"), "--seeds", "1", "--fps", "25"])
    assert code == 2 and "24 or 30 frames per second" in capsys.readouterr().err
    assert main(["film", run, "-o", str(tmp_path / "none.mp4")]) == 2
    assert "needs keyframes" in capsys.readouterr().err
    assert not (tmp_path / "bad.mp4").exists() and not (tmp_path / "none.mp4").exists()
