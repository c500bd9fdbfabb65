"""Restoring old photos in the engine: black-and-white and sepia told from colour, scratches
found and filled, photos enlarged in tiles with checked weights, and every bad input refused in
plain words. Real photos: LFW people beside the checkout, else packaged portraits."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from gan_engine.errors import CheckpointError, DataError
from gan_engine.restore import (
    Options,
    colour,
    colourise,
    damage,
    denoise,
    enlarge,
    face_enlarge,
    levels,
    models,
    person_colours,
    pipeline,
    repair,
    restore,
)
from gan_engine.restore.colourise import Hint
from gan_engine.restore.load import from_pil, load_photo, to_uint8
from gan_engine.restore.training import _jpeg
from tests import images

ROOT = Path(__file__).resolve().parents[2]


def portraits(count: int) -> list[np.ndarray]:
    """Real colour photos of different people as floats in [0, 1]."""
    found = []
    if images.SHARED_FACES.is_dir():
        people = sorted(p for p in images.SHARED_FACES.iterdir() if p.is_dir())
        for person in people[:: max(1, len(people) // count)][:count]:
            found.append(load_photo(sorted(person.glob("*.jpg"))[0]))
    if len(found) < count:
        packaged = [images.packaged_face(i) for i in range(count)] + [
            images.another_person(i) for i in range(count)
        ]
        found += [from_pil(p) for p in packaged[: count - len(found)]]
    return found


def grey(image: np.ndarray) -> np.ndarray:
    return np.repeat(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)


def sepia(image: np.ndarray) -> np.ndarray:
    return grey(image) * np.array([1.0, 0.82, 0.6], np.float32)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / max(float(np.mean((a - b) ** 2)), 1e-12)))


def test_black_and_white_and_sepia_are_told_from_colour():
    rng = np.random.default_rng(0)
    for photo in portraits(6):
        assert colour.tone_of(photo).tone == "colour"
        assert colour.tone_of(grey(photo)).tone == "grey"
        assert colour.tone_of(sepia(photo)).tone == "sepia"
        scanned = np.clip(sepia(photo) + rng.normal(0, 0.02, photo.shape), 0, 1)
        assert colour.tone_of(_jpeg(scanned.astype(np.float32), 40)).tone == "sepia"
    # Colours along one hue are not a toned print when one lightness holds several colours (a
    # blue sky over a white and grey rocket): it must not lose its colours to a single tone.
    from skimage import data

    rocket = data.rocket().astype(np.float32) / 255.0
    assert colour.tone_of(rocket).tone == "colour"


def test_scratches_and_dust_are_found_and_filled_leaving_the_rest():
    ious = []
    for seed, photo in enumerate(portraits(6)):
        damaged, truth = damage.scratch(photo, seed=seed)
        for method in ("network", "classical"):
            found = repair.damage_mask(damaged, method=method)
            ious.append((found & truth).sum() / (found | truth).sum())
            filled = repair.fill(damaged, found, method=method)
            assert np.array_equal(filled[~found], damaged[~found])  # only the damage changes
            assert psnr(filled[truth], photo[truth]) > psnr(damaged[truth], photo[truth]) + 3
            assert repair.damage_mask(photo, method=method).mean() < 0.02  # clean: left alone
    assert np.mean(ious) > 0.3  # bench/restore_quality.py has the figures


def test_noise_is_smoothed_only_in_photos_that_have_it(monkeypatch):
    photo = portraits(1)[0]
    assert denoise.clean(photo) is photo  # a clean photo is left exactly as it is
    clean = restore(photo, Options(repair=True))
    assert pipeline.DENOISED not in clean.actions

    rng = np.random.default_rng(0)
    noisy = np.clip(photo + rng.normal(0, 0.04, photo.shape), 0, 1).astype(np.float32)
    assert psnr(denoise.clean(noisy), photo) > psnr(noisy, photo) + 3
    result = restore(noisy, Options(repair=True))
    assert pipeline.DENOISED in result.actions and pipeline.SMOOTHED in result.notes
    # Better than the noisy photo; less than smoothing alone, since the damage detector takes
    # some of the noise for specks (BENCHMARKS.md, "Grain, noise and JPEG blocks").
    assert psnr(result.image, photo) > psnr(noisy, photo)

    # A big scan is cleaned in bands of rows, with no trace of where they meet.
    tall = np.concatenate([noisy] * 3, axis=0)
    measured = denoise.measure(tall)
    banded = denoise.clean(tall, measured)
    monkeypatch.setattr(denoise, "BAND_ROWS", tall.shape[0])
    assert np.array_equal(banded, denoise.clean(tall, measured))


def test_a_faded_print_gets_its_dark_tones_back_and_other_photos_are_left_alone():
    for photo in portraits(3):
        assert levels.stretch(photo, levels.measure(photo)) is photo  # not faded: untouched
        assert pipeline.ADJUSTED not in restore(photo, Options(repair=True)).actions
        for toned in (photo, sepia(photo)):
            # Faded: the contrast scaled toward the paper's lightness, the blacks lifted.
            faded = (0.7 * toned + 0.3 * 0.65).astype(np.float32)
            fade = levels.measure(faded)
            assert fade.faded
            back = levels.stretch(faded, fade)
            assert psnr(back, toned) > psnr(faded, toned) + 3
            assert levels.measure(back).dark < levels.BLACK_LIFTED  # the blacks are back
            result = restore(faded, Options(repair=True))
            assert pipeline.ADJUSTED in result.actions and pipeline.UNFADED in result.notes


@pytest.fixture(scope="module")
def compact() -> enlarge.Enlarger:
    return enlarge.Enlarger("compact")


def test_enlarging_in_tiles_keeps_the_picture(compact):
    photo = portraits(1)[0]
    photo = cv2.resize(photo, (200, 180), interpolation=cv2.INTER_AREA)  # more than one tile
    big = compact.run(photo, 2)
    assert big.shape == (360, 400, 3)
    back = cv2.resize(big, (200, 180), interpolation=cv2.INTER_AREA)
    assert psnr(back, photo) > 28  # no misplaced or missing tile
    # No seam where tiles meet: the row across a tile border changes no more than its neighbours.
    rows = np.abs(np.diff(big, axis=0)).mean(axis=(1, 2))
    border = enlarge.TILE * 2 - 1
    assert rows[border] < 3 * np.median(rows[border - 8 : border + 8])


def test_the_photo_trained_network_enlarges_four_times():
    small = cv2.resize(portraits(1)[0], (24, 24), interpolation=cv2.INTER_AREA)
    big = enlarge.Enlarger("x4plus").run(small, 4)
    assert big.shape == (96, 96, 3)
    assert psnr(cv2.resize(big, (24, 24), interpolation=cv2.INTER_AREA), small) > 25


def test_a_grey_photo_stays_grey_and_a_tiny_one_is_enlarged(compact):
    tiny = grey(cv2.resize(portraits(1)[0], (64, 64), interpolation=cv2.INTER_AREA))
    result = restore(tiny, Options(enlarge=4, network="compact"))
    assert result.image.shape == (256, 256, 3)
    assert result.tone.tone == "grey" and colour.tone_of(result.image).tone == "grey"
    assert result.actions == ["c2pa.resized", "org.memorial.fidelity_blend"]


def test_fidelity_one_is_the_original_enlarged_plainly():
    photo = cv2.resize(portraits(1)[0], (40, 40), interpolation=cv2.INTER_AREA)
    result = restore(photo, Options(enlarge=2, fidelity=1.0, network="compact", faces=None))
    plain = cv2.resize(photo, (80, 80), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    assert np.allclose(result.image, plain, atol=1e-5)


def test_colourising_a_colour_photo_is_said_and_nothing_is_done():
    photo = portraits(1)[0]
    result = restore(photo, Options(colourise=True))
    assert np.array_equal(result.image, photo) and result.actions == []
    assert result.notes == ["This photo is already in colour, so it was not colourised."]


def _skin_error(image: np.ndarray, truth: np.ndarray) -> float:
    """Mean CIEDE2000 between ``image`` and ``truth`` over the truth's cheeks, forehead, nose and
    chin (dlib's landmarks)."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    face = person_colours.find_person(to_uint8(truth))
    assert face is not None, "the test photo shows no face"
    skin = person_colours.region_masks(truth.shape[:2], face[1])["skin"]
    return float(deltaE_ciede2000(rgb2lab(image), rgb2lab(truth))[skin].mean())


def test_a_grey_or_sepia_photo_is_coloured_by_the_colour_model():
    errors = []
    for truth in portraits(3):
        for toned in (grey(truth), sepia(truth)):
            result = restore(toned, Options(colourise=True))
            assert result.actions == [pipeline.COLOURISED]
            assert result.notes == [pipeline.GUESSED_COLOURS]
            assert colour.tone_of(result.image).tone == "colour"
            assert np.abs(_lightness(result.image) - _lightness(toned)).max() < 0.5
        # The skin comes back nearer its colour than grey is (bench/restore_colour.py has the
        # figures; a sepia version is darker than the truth, so only grey is compared here).
        coloured = restore(grey(truth), Options(colourise=True)).image
        errors.append((_skin_error(coloured, truth), _skin_error(grey(truth), truth)))
    assert all(ours < 0.9 * theirs for ours, theirs in errors)
    assert np.mean([e[0] for e in errors]) < 0.7 * np.mean([e[1] for e in errors])


def _lightness(image: np.ndarray) -> np.ndarray:
    return colourise.lab(image)[..., 0]


def _rgb_of(lightness: float, ab: tuple[float, float]) -> tuple[int, int, int]:
    pixel = np.array([[[lightness, *ab]]], np.float32)
    return tuple(int(v) for v in to_uint8(cv2.cvtColor(pixel, cv2.COLOR_Lab2RGB))[0, 0])


def _chroma_error(image: np.ndarray, hint: Hint) -> float:
    """Distance in (a, b) between the result at the hint's point and the hint's colour."""
    return float(
        np.hypot(*(colourise.lab(image)[hint.y, hint.x, 1:] - colourise.rgb_to_ab(hint.rgb)))
    )


def _mid_tone_points(lightness: np.ndarray, count: int) -> list[tuple[int, int]]:
    """``count`` places spread over the photo where it is neither dark nor bright and locally
    even: there a colour of the photo's own lightness exists for any hue a person might know
    (a very dark or bright point has almost no colours left at its lightness)."""
    height, width = lightness.shape
    found = []
    for y in np.linspace(0.15 * height, 0.85 * height, 16).astype(int):
        for x in np.linspace(0.15 * width, 0.85 * width, 16).astype(int):
            window = lightness[max(0, y - 2) : y + 3, max(0, x - 2) : x + 3]
            if 30 <= lightness[y, x] <= 82 and window.std() < 4.0:
                found.append((int(x), int(y)))
    assert len(found) >= count, "the test photo has too few even mid-tone places"
    return [found[int(i)] for i in np.linspace(0, len(found) - 1, count)]


def test_colour_hints_are_honoured_and_the_photo_keeps_its_lightness():
    truth = portraits(1)[0]
    # Three colours a person might know (warm, green, blue), each as light as the photo is at
    # its point: a colour darker or lighter than the photo cannot be kept with the photo's own
    # lightness (bench/restore_colour.py measures ΔE at hint points against the true colours).
    lightness = _lightness(grey(truth))
    hints = tuple(
        Hint(x, y, _rgb_of(float(lightness[y, x]), ab))
        for (x, y), ab in zip(
            _mid_tone_points(lightness, 3),
            ((18.0, 24.0), (-20.0, 15.0), (5.0, -25.0)),
            strict=True,
        )
    )
    for toned in (grey(truth), sepia(truth)):
        result = restore(toned, Options(colourise=True, hints=hints))
        assert result.actions == [pipeline.COLOURISED]
        assert result.notes == [pipeline.HINTED_COLOURS]
        assert colour.tone_of(result.image).tone == "colour"
        assert np.abs(_lightness(result.image) - _lightness(toned)).max() < 0.5  # L is the photo's
        for hint in hints:
            assert _chroma_error(result.image, hint) < 3.0


def test_colours_are_kept_through_enlarging_and_hints_outside_are_refused():
    truth = cv2.resize(portraits(1)[0], (60, 60), interpolation=cv2.INTER_AREA)
    lightness = _lightness(grey(truth))
    ((x, y),) = _mid_tone_points(lightness, 1)
    hint = Hint(x, y, _rgb_of(float(lightness[y, x]), (20.0, 18.0)))  # a warm skin-like colour
    result = restore(
        grey(truth), Options(colourise=True, enlarge=2, hints=(hint,), network="compact")
    )
    assert result.image.shape == (120, 120, 3)
    assert result.actions[:2] == [pipeline.COLOURISED, "c2pa.resized"]
    assert _chroma_error(result.image, Hint(2 * x + 1, 2 * y + 1, hint.rgb)) < 6.0
    with pytest.raises(DataError, match="outside this 60×60 photo"):
        restore(grey(truth), Options(colourise=True, hints=(Hint(60, 10, (1, 2, 3)),)))


def test_a_big_scan_is_coloured_on_a_bounded_copy():
    scan = cv2.resize(grey(portraits(1)[0]), (1600, 1200), interpolation=cv2.INTER_CUBIC)
    scan = scan.clip(0, 1)
    hints = (Hint(800, 600, (210, 160, 130)),)
    chroma = colourise.chroma_for(scan, hints)
    assert chroma is not None
    assert chroma.ab.shape[0] * chroma.ab.shape[1] <= colourise.WORK_PIXELS
    coloured = colourise.apply(scan, chroma)
    assert coloured.shape == scan.shape
    assert np.abs(_lightness(coloured) - _lightness(scan)).max() < 0.5
    assert _chroma_error(coloured, hints[0]) < 3.0


def test_the_persons_colour_photos_teach_the_colouriser_their_colours():
    truth = from_pil(images.packaged_face(0))
    theirs = [from_pil(images.packaged_face(v)) for v in (1, 2, 3)]
    general = restore(grey(truth), Options(colourise=True))
    learning = Options(colourise=True, personal_colour_seconds=15)
    taught = restore(grey(truth), learning, references=theirs)
    assert taught.actions == [pipeline.COLOURISED]
    assert taught.notes == [pipeline.LEARNED_COLOURS]
    assert _skin_error(taught.image, truth) < _skin_error(general.image, truth)

    # Someone else's photos are not the person: they teach nothing, and it is said.
    stranger = restore(grey(truth), learning, references=[from_pil(images.another_person(0))])
    assert stranger.notes == [pipeline.GUESSED_COLOURS, pipeline.NOT_FOUND]
    assert np.array_equal(stranger.image, general.image)  # the general colours, unchanged


def test_faces_are_enlarged_to_keep_their_likeness():
    photo = cv2.resize(from_pil(images.packaged_face(0)), (62, 62), interpolation=cv2.INTER_AREA)
    kept = restore(photo, Options(enlarge=4, network="compact"))
    general = restore(photo, Options(enlarge=4, network="compact", faces=None))
    assert pipeline.FACES_KEPT in kept.notes
    box = face_enlarge.find_faces(photo, 4)[0]
    centre = (
        slice(round(box.top * 4) + 8, round(box.bottom * 4) - 8),
        slice(round(box.left * 4) + 8, round(box.right * 4) - 8),
    )
    faces = face_enlarge.keep_faces(general.image.copy(), photo, 4, [box], "network")
    assert np.allclose(kept.image, faces, atol=1e-5)
    network = models.enlarge_face(photo, 4)
    assert (
        psnr(kept.image[centre], network[centre]) > psnr(general.image[centre], network[centre]) + 3
    )
    corner = (slice(0, 16), slice(0, 16))  # far from the face: the general enlarger's
    assert np.allclose(kept.image[corner], general.image[corner], atol=1e-5)

    texture = np.random.default_rng(0).random((40, 40, 3)).astype(np.float32)
    nothing = restore(texture, Options(enlarge=2, network="compact"))
    assert pipeline.NO_FACE in nothing.notes


def test_bad_requests_are_refused_in_plain_words():
    with pytest.raises(DataError, match="at least 16 pixels"):
        from_pil(Image.new("RGB", (8, 40)))
    with pytest.raises(DataError, match="192 megapixels, more than the 64 allowed"):
        enlarge.check_size(3000, 4000, 4)  # a 12-megapixel scan ×4
    enlarge.check_size(3000, 4000, 2)  # ×2 is allowed
    with pytest.raises(DataError, match="at least one of"):
        Options()
    with pytest.raises(DataError, match="2 or 4 times"):
        Options(enlarge=3)
    with pytest.raises(DataError, match="Fidelity"):
        Options(repair=True, fidelity=1.5)


def test_missing_or_damaged_weights_are_named(tmp_path):
    folder = tmp_path / "models"
    shutil.copytree(enlarge.models_folder(), folder)
    param, weights, _scale = enlarge.checked_weights("compact", folder)
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="damaged"):
        enlarge.Enlarger("compact", folder)
    weights.unlink()
    with pytest.raises(CheckpointError, match="missing"):
        enlarge.Enlarger("compact", folder)
    assert param.exists()


def test_a_16_bit_scan_is_read_at_16_bits(tmp_path):
    levels = (np.arange(64 * 64, dtype=np.uint32).reshape(64, 64) * 16).astype(np.uint16)
    path = tmp_path / "scan16.png"
    Image.fromarray(levels).save(path)
    image = load_photo(path)
    assert len(np.unique(image[..., 0])) > 256  # finer than 8 bits
    assert np.allclose(image[..., 0], levels / 65535.0, atol=1e-6)


def test_cli_writes_a_labelled_restored_png_and_refuses_bad_input(tmp_path):
    source = tmp_path / "old.png"
    damaged, _ = damage.scratch(sepia(portraits(1)[0]), seed=3)
    Image.fromarray(to_uint8(cv2.resize(damaged, (48, 48)))).save(source)
    out = tmp_path / "restored.png"
    command = [sys.executable, "-m", "gan_engine", "restore", str(source), str(out)]
    done = subprocess.run(
        [*command, "--repair", "--colourise", "--enlarge", "2", "--network", "compact"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "sepia photo" in done.stdout and "org.memorial.colourised" in done.stdout
    written = Image.open(out)
    assert written.size == (96, 96) and written.text["memorial:label"] == "AI-restored"

    refused = subprocess.run(
        [*command, "--enlarge", "3"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert refused.returncode == 2
    nothing = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert nothing.returncode == 2 and "error: Choose at least one of" in nothing.stderr


def test_a_big_scan_is_enlarged_plainly_like_its_faces():
    """Above the size where the network adds nothing measured, the whole photo gets the faces'
    method (Lanczos and the mild unsharp mask), in bands that leave no seams."""
    photo = np.concatenate(portraits(2), axis=0)  # taller than one band: the seams are tested
    h, w = photo.shape[:2]
    assert h > enlarge.BAND
    result = restore(photo, Options(enlarge=2, network_max_pixels=h * w - 1))
    assert result.actions == [pipeline.RESIZED] and result.network is None
    assert result.notes == [pipeline.PLAIN]
    assert result.image.shape == (2 * h, 2 * w, 3) and result.image.dtype == np.float32
    whole = face_enlarge._enlarge_crop(photo, (0, 0, w, h), 2, "lanczos_unsharp")
    assert np.abs(result.image - whole).max() < 1e-4


def test_a_photo_at_the_bound_still_goes_through_the_network_asked_for(compact):
    photo = portraits(1)[0][:64, :64]
    at_bound = restore(photo, Options(enlarge=2, network="compact", network_max_pixels=1))
    assert at_bound.network == "compact" and pipeline.PLAIN not in at_bound.notes
    assert pipeline.BLENDED in at_bound.actions
