"""Check a restoration network while it trains, on photos it never sees: the last photos of LFW's
general corpus (the training runs use ``--limit 8500``, the first 8,500 in sorted order).

Face enlarger: PSNR of ×4 against bicubic and Lanczos + unsharp, photos shrunk by area averaging.
Damage detector: detection IoU at several thresholds (the one shipped is chosen here, on these
photos, never on the benchmark's held-out people), with the classical detector beside it.

    .venv/bin/python bench/restore_validate.py face_enlarger /tmp/rt/face_enlarger.pt
    .venv/bin/python bench/restore_validate.py damage /tmp/rt/damage.pt
    .venv/bin/python bench/restore_validate.py fill /tmp/rt/fill.pt
    .venv/bin/python bench/restore_validate.py colouriser /tmp/rt/colour.pt

Fill: PSNR inside the true damage after Telea, the shipped fill and the checkpoint's, on the true
masks and on the masks the shipped detector finds (its wider fill mask, as repair uses it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gan_quality import DEFAULT_LFW  # noqa: E402
from bench.restore_quality import psnr  # noqa: E402
from gan_engine.restore import damage, enlarge, models, repair, training  # noqa: E402

TRAINED_ON = 8500


def validation_photos(general: Path, count: int) -> list[np.ndarray]:
    paths = sorted(p for p in general.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    chosen = paths[TRAINED_ON:][:count]
    return [cv2.imread(str(p))[..., ::-1].astype(np.float32) / 255.0 for p in chosen]


def network_from(checkpoint: Path, network: str) -> torch.nn.Module:
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    net = training.build(network)
    net.load_state_dict(state["net"])
    print(f"step {state['step']}, {state['cpu_seconds'] / 60:.1f} CPU-minutes", file=sys.stderr)
    return net.eval()


def check_enlarger(net: torch.nn.Module, photos: list[np.ndarray]) -> dict:
    rows: dict[str, list[float]] = {"bicubic": [], "lanczos_unsharp": [], "network": []}
    for truth in photos:
        h, w = (truth.shape[0] // 4) * 4, (truth.shape[1] // 4) * 4
        truth = np.ascontiguousarray(truth[:h, :w])
        small = cv2.resize(truth, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
        bicubic = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)
        rows["bicubic"].append(psnr(bicubic, truth))
        rows["lanczos_unsharp"].append(psnr(enlarge.plain(small, 4), truth))
        rows["network"].append(psnr(models.enlarge_face(small, 4, net), truth))
    return {name: round(float(np.mean(values)), 3) for name, values in rows.items()}


def check_damage(net: torch.nn.Module, photos: list[np.ndarray]) -> dict:
    thresholds = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
    ious: dict[str, list[float]] = {f"{t}": [] for t in thresholds}
    ious["classical"] = []
    clean: dict[str, list[float]] = {f"{t}": [] for t in thresholds}
    for seed, truth in enumerate(photos):
        hurt, mask = damage.scratch(truth, seed=10_000 + seed)
        prob = models.damage_probability(hurt, net)
        clean_prob = models.damage_probability(truth, net)
        for t in thresholds:
            found = prob > t
            ious[f"{t}"].append(float((found & mask).sum() / max((found | mask).sum(), 1)))
            clean[f"{t}"].append(float((clean_prob > t).mean()))
        found = repair.damage_mask(hurt, method="classical")
        ious["classical"].append(float((found & mask).sum() / max((found | mask).sum(), 1)))
    return {
        "iou": {k: round(float(np.mean(v)), 3) for k, v in ious.items()},
        "clean_marked": {k: round(float(np.mean(v)), 4) for k, v in clean.items()},
    }


def check_fill(net: torch.nn.Module, photos: list[np.ndarray]) -> dict:
    rows: dict[str, list[float]] = {
        f"{masks}_{fill}": []
        for masks in ("true", "detected")
        for fill in ("telea", "shipped", "new")
    }
    for seed, truth in enumerate(photos):
        hurt, mask = damage.scratch(truth, seed=10_000 + seed)
        _found, wider = repair.damage_masks(hurt)
        for masks, given in (("true", mask), ("detected", wider)):
            base = repair.telea(hurt, given)
            outs = {
                "telea": base,
                "shipped": models.fill_damage(base, given),
                "new": models.fill_damage(base, given, net),
            }
            for fill, out in outs.items():
                rows[f"{masks}_{fill}"].append(psnr(out[mask], truth[mask]))
    return {name: round(float(np.mean(v)), 3) for name, v in rows.items()}


def check_colouriser(net: torch.nn.Module, photos: list[np.ndarray]) -> dict:
    """Mean CIEDE2000 over the whole photo and colourfulness, each photo turned grey and
    coloured, beside the grey photo's own ΔE and the truth's colourfulness."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    from bench.restore_colour import colourfulness, grey
    from gan_engine.restore import colourise

    rows: dict[str, list[float]] = {"grey": [], "network": [], "colourful": [], "truth": []}
    for truth in photos:
        source = grey(truth)
        out = colourise.apply(source, colourise.chroma_for(source, colouriser=net))
        true_lab = rgb2lab(truth)
        rows["grey"].append(float(deltaE_ciede2000(rgb2lab(source), true_lab).mean()))
        rows["network"].append(float(deltaE_ciede2000(rgb2lab(out), true_lab).mean()))
        rows["colourful"].append(colourfulness(out))
        rows["truth"].append(colourfulness(truth))
    return {
        "delta_e_grey": round(float(np.mean(rows["grey"])), 3),
        "delta_e_network": round(float(np.mean(rows["network"])), 3),
        "colourfulness": round(float(np.mean(rows["colourful"])), 2),
        "colourfulness_truth": round(float(np.mean(rows["truth"])), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("network", choices=["face_enlarger", "damage", "fill", "colouriser"])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--general", type=Path, default=DEFAULT_LFW.parent / "lfw-general")
    parser.add_argument("--count", type=int, default=60)
    args = parser.parse_args()
    torch.set_num_threads(1)
    net = network_from(args.checkpoint, args.network)
    photos = validation_photos(args.general, args.count)
    check = {
        "face_enlarger": check_enlarger,
        "damage": check_damage,
        "fill": check_fill,
        "colouriser": check_colouriser,
    }[args.network]
    print(json.dumps(check(net, photos), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
