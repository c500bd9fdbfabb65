#!/usr/bin/env python
"""Which snapshot of a person's model should a family get? Every sample grid's weights, measured.

An experiment, not a test. ``train`` runs ``bench/gan_quality.py`` (the shipped prior, the
engine's defaults, keep_best on) and saves the EMA generator of every snapshot the likeness probe
measures (every sample grid); ``evaluate`` runs the full evaluation (64 samples, every metric) on
each saved snapshot and measures the probe's own samples again with variety figures
(descriptor diversity, shape similarity); ``rules`` replays selection rules over those
trajectories using only what training can know (the probe's figures) and prints the evaluation
figures of the snapshot each rule would keep, per person and on average.

    .venv/bin/python bench/snapshot_choice.py train --work W --people A,B --budget 900
    .venv/bin/python bench/snapshot_choice.py evaluate --work W
    .venv/bin/python bench/snapshot_choice.py probe --work W --count 96
    .venv/bin/python bench/snapshot_choice.py rules --work W [--json bench/results/...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent))

import gan_quality  # noqa: E402


def snapshots_of(run: Path) -> Path:
    return run / "snapshots"


def install_snapshot_saving() -> None:
    """Save every measured snapshot's EMA weights (and, once, the probe's inputs and centroid)."""
    import torch

    from gan_engine import train as train_module

    measure = train_module.Trainer.measure_likeness

    def measure_and_save(self):  # type: ignore[no-untyped-def]
        likeness = measure(self)
        if self.probe is not None:
            folder = snapshots_of(Path(self.config.out))
            folder.mkdir(parents=True, exist_ok=True)
            state = {k: v.detach().clone() for k, v in self.G_ema.state_dict().items()}
            torch.save(
                {"step": self.step, "G_ema": state, "likeness": likeness.to_dict()},
                folder / f"{self.step:07d}.pt",
            )
            probe = folder / "probe.pt"
            if not probe.exists():
                torch.save(
                    {"z": self.probe.z, "text": self.probe.text, "centroid": self.probe.centroid},
                    probe,
                )
        return likeness

    train_module.Trainer.measure_likeness = measure_and_save


def train(args: argparse.Namespace) -> None:
    install_snapshot_saving()
    sys.argv = [
        "gan_quality.py",
        "--models=engine",
        "--priors=shipped",
        f"--threads={args.threads}",
        f"--budget={args.budget:g}",
        f"--work={args.work}",
        f"--results={args.work / 'results'}",
        f"--people={args.people}",
    ]
    gan_quality.main()


def make_probe(saved: dict[str, Any], z_dim: int, count: int, tools: Any) -> Any:
    """The run's likeness probe rebuilt from what training saved (its centroid and caption rows),
    drawing ``count`` samples on the seeds training uses (the first 24 are training's own)."""
    from gan_engine.likeness import LikenessProbe

    return LikenessProbe(saved["centroid"][None], saved["text"], z_dim, count=count, tools=tools)


def probe_figures(model: Any, probe: Any) -> dict[str, Any]:
    """The probe's samples of ``model``: match rate and distance (as training measures them)
    plus their descriptor diversity and shape similarity (which training could measure too)."""
    import torch

    from gan_engine.evaluate import identity, shape_similarity
    from gan_engine.likeness import to_uint8

    with torch.no_grad():
        images = torch.cat(
            [
                model.generator(probe.z[i : i + 16], probe.text[i : i + 16]).float()
                for i in range(0, len(probe.z), 16)
            ]
        )
    crops = to_uint8(images)
    found = identity(crops, probe.centroid, probe.tools)
    return {
        "match_rate": found["identity_match_rate"],
        "mean_distance": found["mean_distance"],
        "diversity": found["diversity_descriptor"],
        "shape": shape_similarity(crops),
    }


def evaluate_snapshots(args: argparse.Namespace) -> None:
    import torch

    from gan_engine.checkpoint import read_checkpoint, save_checkpoint
    from gan_engine.evaluate import evaluate
    from gan_engine.faces import FaceTools
    from gan_engine.generate import load_model

    tools = FaceTools()
    for run in sorted((args.work / "runs").iterdir()):
        folder = snapshots_of(run)
        if not folder.is_dir() or (args.people and run.name.split("--")[0] not in args.people):
            continue
        person = run.name.split("--")[0]
        data = gan_quality.prepare_person(args.lfw, person, args.work)
        saved_probe = torch.load(folder / "probe.pt", weights_only=False)
        base = read_checkpoint(run / "checkpoint.pt")
        probe = None
        for snapshot in sorted(folder.glob("0*.pt")):
            out = folder / f"{snapshot.stem}.json"
            if out.exists():
                continue
            saved = torch.load(snapshot, weights_only=False)
            target = args.work / "snapshot-eval" / run.name / snapshot.stem
            target.mkdir(parents=True, exist_ok=True)
            state = {k: v for k, v in base.items() if k not in ("opt_g", "opt_d", "G", "D", "best")}
            state["best"] = {"likeness": saved["likeness"], "G_ema": saved["G_ema"]}
            state["G_ema"] = saved["G_ema"]
            save_checkpoint(state, target)
            model = load_model(target, device="cpu")
            probe = probe or make_probe(saved_probe, model.z_dim, len(saved_probe["z"]), tools)
            figures = probe_figures(model, probe)
            report = evaluate(
                target, data, samples=gan_quality.SAMPLES, seed=gan_quality.SEED, device="cpu"
            )
            result = {
                "person": person,
                "step": saved["step"],
                "likeness": saved["likeness"],
                "probe": figures,
                "figures": gan_quality.figures({"report": report, "spent": {}}),
            }
            out.write_text(json.dumps(result, indent=1))
            (target / "checkpoint.pt").unlink()
            print(person, saved["step"], figures, result["figures"]["identity"], flush=True)


#: A selection rule, replayed as training would run it: ``replaces(new, kept, top)`` says whether
#: a newly measured snapshot takes the kept one's place, knowing only the figures measured so far
#: (``top``: the best match rate yet, the new one included). Only the kept weights are stored.
Replaces = Callable[[dict[str, Any], dict[str, Any], float], bool]


def replaces_best(new: dict[str, Any], kept: dict[str, Any], top: float) -> bool:
    """The product's rule (``Likeness.replaces``): the highest match rate, then the smaller
    distance, ties newer."""
    from gan_engine.likeness import Likeness

    def likeness(p: dict[str, Any]) -> Likeness:
        return Likeness(step=0, match_rate=p["match_rate"], mean_distance=p["mean_distance"])

    return likeness(new).replaces(likeness(kept))


def replaces_last(new: dict[str, Any], kept: dict[str, Any], top: float) -> bool:
    return True


def replaces_varied_within(margin: float, figure: str = "diversity", sign: float = 1.0) -> Replaces:
    """Among snapshots within ``margin`` of the best match rate yet, the most varied (probe
    descriptor diversity; or the least shape similarity with ``figure="shape", sign=-1``)."""

    def replaces(new: dict[str, Any], kept: dict[str, Any], top: float) -> bool:
        if kept["match_rate"] < top - margin - 1e-9:
            return True  # the kept one fell out of reach of the best; the new one is the best
        if new["match_rate"] < top - margin - 1e-9:
            return False
        return sign * (new[figure] or 0.0) >= sign * (kept[figure] or 0.0)

    return replaces


def replaces_latest_at_least(threshold: float) -> Replaces:
    """The newest snapshot whose match rate reaches ``threshold``; below it, the product's rule."""

    def replaces(new: dict[str, Any], kept: dict[str, Any], top: float) -> bool:
        if new["match_rate"] >= threshold - 1e-9:
            return True
        return kept["match_rate"] < threshold - 1e-9 and replaces_best(new, kept, top)

    return replaces


def replay(replaces: Replaces, probes: list[dict[str, Any]]) -> int:
    """The index of the snapshot a run with this rule ends up keeping."""
    kept, top = 0, probes[0]["match_rate"]
    for i, new in enumerate(probes[1:], start=1):
        top = max(top, new["match_rate"])
        if replaces(new, probes[kept], top):
            kept = i
    return kept


RULES: dict[str, Replaces] = {
    "last": replaces_last,
    "best (product)": replaces_best,
    "varied at the top": replaces_varied_within(0.0),
    "varied within 0.03": replaces_varied_within(0.03),
    "varied within 1/24": replaces_varied_within(1 / 24),
    "varied within 2/24": replaces_varied_within(2 / 24),
    "varied within 3/24": replaces_varied_within(3 / 24),
    "least shape at the top": replaces_varied_within(0.0, "shape", -1.0),
    "least shape within 1/24": replaces_varied_within(1 / 24, "shape", -1.0),
    "least shape within 2/24": replaces_varied_within(2 / 24, "shape", -1.0),
    "latest >= 0.95": replaces_latest_at_least(0.95),
    "latest >= 0.9": replaces_latest_at_least(0.9),
}
SHOWN = ("identity", "detection", "distance", "heldout_ssim", "train_ssim", "diversity", "shape")


def probe_more(args: argparse.Namespace) -> None:
    """Measure every evaluated snapshot again with ``--count`` probe samples (training's seeds and
    caption rows, continued), stored as ``probe<count>`` beside the 24-sample figures: is a larger
    probe a better guide?"""
    import torch

    from gan_engine.faces import FaceTools
    from gan_engine.generate import load_model

    tools = FaceTools()
    name = f"probe{args.count}"
    for file in sorted((args.work / "runs").glob("*/snapshots/0*.json")):
        result = json.loads(file.read_text())
        if name in result:
            continue
        folder = file.parent
        saved = torch.load(folder / f"{file.stem}.pt", weights_only=False)
        model = load_model(folder.parent, device="cpu")
        model.generator.load_state_dict(saved["G_ema"])
        probe = make_probe(
            torch.load(folder / "probe.pt", weights_only=False), model.z_dim, args.count, tools
        )
        result[name] = probe_figures(model, probe)
        file.write_text(json.dumps(result, indent=1))
        print(file.parent.parent.name.split("--")[0], result["step"], result[name], flush=True)


def rules(args: argparse.Namespace) -> None:
    runs: dict[str, list[dict[str, Any]]] = {}
    for file in sorted((args.work / "runs").glob("*/snapshots/0*.json")):
        result = json.loads(file.read_text())
        if result["figures"]["identity"] is None or args.probe not in result:
            continue
        runs.setdefault(file.parent.parent.name, []).append(result)
    for results in runs.values():
        results.sort(key=lambda r: r["step"])
    table: dict[str, Any] = {"runs": {}, "rules": {}}
    for name, rule in RULES.items():
        chosen = []
        for run, results in runs.items():
            index = replay(rule, [r[args.probe] for r in results])
            chosen.append({"run": run, "step": results[index]["step"], **results[index]["figures"]})
        means = {f: statistics.fmean(c[f] for c in chosen if c[f] is not None) for f in SHOWN}
        worst = min(c["identity"] for c in chosen)
        table["rules"][name] = {"mean": means, "worst_identity": worst, "chosen": chosen}
        print(
            f"{name:26s} "
            + " ".join(f"{f[:8]}={means[f]:.3f}" for f in SHOWN)
            + f" worst_id={worst:.2f} steps={[c['step'] for c in chosen]}"
        )
    real = [r["figures"] for results in runs.values() for r in results[:1]]
    print(
        "real photos                "
        + f"diversity={statistics.fmean(f['real_diversity'] for f in real):.3f} "
        + f"shape={statistics.fmean(f['real_shape'] for f in real):.3f}"
    )
    for run, results in runs.items():
        table["runs"][run] = [
            {"step": r["step"], "probe": r["probe"], "figures": r["figures"]} for r in results
        ]
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(table, indent=1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stage", choices=("train", "evaluate", "probe", "rules"))
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--lfw", type=Path, default=gan_quality.DEFAULT_LFW)
    parser.add_argument("--people", default=",".join(gan_quality.PEOPLE))
    parser.add_argument("--budget", type=float, default=900.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--count", type=int, default=96, help="probe: samples per snapshot")
    parser.add_argument(
        "--probe", default="probe", help="rules: the probe figures to select by (probe, probe96)"
    )
    parser.add_argument("--json", type=Path, help="rules: write every trajectory and choice here")
    args = parser.parse_args()
    if args.stage == "train":
        train(args)
    elif args.stage == "evaluate":
        args.people = [p for p in args.people.split(",") if p]
        evaluate_snapshots(args)
    elif args.stage == "probe":
        probe_more(args)
    else:
        rules(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
