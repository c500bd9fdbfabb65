"""``python -m gan_engine``: prepare -> train -> generate -> augment-preview -> evaluate, for real."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from PIL import Image

from gan_engine.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "gan_engine", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_prepare_train_generate_evaluate_end_to_end(face_photos, tmp_path):
    data, runs = tmp_path / "data", tmp_path / "run"
    done = run("prepare", str(face_photos), str(data), "--sizes", "64")
    assert done.returncode == 0, done.stderr
    assert "8 of 8 photos used (7 train, 1 held out)" in done.stdout

    done = run(
        "train",
        "--data",
        str(data),
        "--out",
        str(runs),
        "--resolution",
        "16",
        "--steps",
        "4",
        "--batch",
        "4",
        "--width",
        "0.25",
        "--device",
        "cpu",
        "--sample-every",
        "2",
        "--sample-seconds",
        "0",
        "--lr-g",
        "0.0001",
        "--lr-d",
        "0.0004",
    )
    assert done.returncode == 0, done.stderr
    assert "completed at step 4" in done.stdout
    assert (runs / "samples" / "step-00000004.png").is_file()
    saved = load_checkpoint(runs / "checkpoint.pt")
    assert (saved["config"]["lr_g"], saved["config"]["lr_d"]) == (1e-4, 4e-4)
    assert saved["config"]["sample_every_seconds"] == 0.0
    assert [group["lr"] for group in saved["opt_d"]["param_groups"]] == [4e-4]

    done = run(
        "generate", str(runs), str(tmp_path / "out"), "--caption", "smiling", "--seeds", "3,4"
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "seed-000003.png",
        "seed-000004.png",
    ]
    assert Image.open(tmp_path / "out" / "seed-000003.png").size == (16, 16)

    done = run(
        "augment-preview",
        str(data),
        str(tmp_path / "preview.png"),
        "--resolution",
        "64",
        "--count",
        "4",
    )
    assert done.returncode == 0, done.stderr
    assert Image.open(tmp_path / "preview.png").text["memorial:kind"] == "augment_preview"

    done = run(
        "evaluate",
        str(runs),
        "--data",
        str(data),
        "--samples",
        "4",
        "--out",
        str(tmp_path / "eval.json"),
        "--html",
        str(tmp_path / "eval.html"),
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "eval.json").read_text())
    page = (tmp_path / "eval.html").read_text()
    assert "real photos (ceiling)" in page and "identity match rate" in page
    assert f"{report['heldout_best']['ssim']:.3f}" in page
    assert "http" not in page  # self-contained: images are embedded, nothing is fetched
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(embedded) == 2 + 4  # one held-out photo and its nearest sample, 4 samples
    labels = [Image.open(io.BytesIO(base64.b64decode(b))).text for b in embedded]
    assert labels[0]["memorial:generated"] == "false"  # the real held-out photo
    assert all(label["memorial:generated"] == "true" for label in labels[1:])
    assert report["model_step"] == 4
    assert report["photos"] == {"train": 7, "heldout": 1}
    assert 0 <= report["identity"]["detection_rate"] <= 1
    assert -1 <= report["shape_similarity"] <= 1 and "shape_similarity" in report["ceiling"]
    assert -1 <= report["heldout_best"]["ssim"] <= 1
    assert report["ceiling"]["identity"]["detection_rate"] > 0  # real held-out crops have faces


def test_cli_errors_are_one_clear_line(tmp_path):
    done = run("train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "run"))
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: ")
    assert "is not a prepared data set" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_engine_never_imports_django():
    code = (
        "import sys, gan_engine.cli, gan_engine.train, gan_engine.generate, gan_engine.evaluate, gan_engine.data; "
        "assert not [m for m in sys.modules if m.split('.')[0] in ('django', 'memorial')], 'web code imported'"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_training_help_needs_no_torch():
    """``--help`` answers without loading torch: the defaults it shows come from the torch-free
    gan_engine.defaults."""
    code = (
        "import runpy, sys\n"
        "sys.argv = ['gan_engine', 'train', '--help']\n"
        "try:\n"
        "    runpy.run_module('gan_engine', run_name='__main__')\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        "assert 'torch' not in sys.modules, 'train --help imported torch'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "--lr-d" in done.stdout and "--caption-bias" in done.stdout


def test_the_command_line_lets_idle_openmp_threads_sleep():
    """A pretraining started by hand shares the machine with Memorial's workers: spinning
    OpenMP threads cost it most of its speed when another process holds a core. The setting
    must be in place before torch loads (its runtime reads it once); an administrator's own
    value is kept."""
    code = (
        "import os, runpy, sys\n"
        "sys.argv = ['gan_engine', 'train', '--help']\n"
        "try:\n"
        "    runpy.run_module('gan_engine', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(os.environ['OMP_WAIT_POLICY'], 'torch' in sys.modules, file=sys.stderr)\n"
    )
    clean = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    for given, expected in (({}, "PASSIVE"), ({"OMP_WAIT_POLICY": "ACTIVE"}, "ACTIVE")):
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**clean, **given},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr.strip().splitlines()[-1] == f"{expected} False"


def test_the_command_lines_defaults_are_the_engines():
    from gan_engine import defaults
    from gan_engine.cli import build_parser, training_config
    from gan_engine.train import PRETRAIN_MIN_PHOTOS, TrainConfig

    parser = build_parser()
    asked = training_config(parser.parse_args(["train", "--data", "d", "--out", "o"]))
    assert asked == TrainConfig(data="d", out="o")
    pretrain = parser.parse_args(["pretrain", "--data", "d", "--out", "o"])
    assert pretrain.min_photos == PRETRAIN_MIN_PHOTOS == defaults.PRETRAIN_MIN_PHOTOS


def test_training_from_a_prior_on_the_command_line_takes_its_networks_and_fine_tuning():
    """``train --init face-64`` trains as the product would (the prior's networks and its
    recommended fine-tuning); what the command line says wins; ``pretrain --init`` continues the
    prior with every layer learning at the engine's own rates."""
    from gan_engine import defaults
    from gan_engine.cli import build_parser, training_config
    from gan_engine.prior import SHIPPED_DIR, read_manifest

    prior = SHIPPED_DIR / "face-64"
    recommended = read_manifest(prior).fine_tune
    parser = build_parser()
    common = ["--data", "d", "--out", "o", "--init", str(prior)]
    train = training_config(parser.parse_args(["train", *common]))
    assert train.caption_bias is False  # face-64 was trained without it
    assert (train.lr_g, train.lr_d, train.freeze_d) == (
        recommended["lr_g"], recommended["lr_d"], recommended["freeze_d"]
    )  # fmt: skip
    chosen = training_config(parser.parse_args(["train", *common, "--freeze-d", "1"]))
    assert chosen.freeze_d == 1 and chosen.lr_g == recommended["lr_g"]
    pretrain = training_config(parser.parse_args(["pretrain", *common]))
    assert pretrain.caption_bias is False
    assert (pretrain.lr_g, pretrain.lr_d, pretrain.freeze_d) == (defaults.LR_G, defaults.LR_D, 0)
