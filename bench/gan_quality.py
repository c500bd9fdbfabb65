#!/usr/bin/env python
"""GAN quality at a fixed CPU budget: the engine's default 64 px model against both reference
DCGANs, for six LFW people, with and without a prior trained on other people.

A benchmark, not a test. Every run trains for the same budget of *process CPU seconds*
(``time.process_time()``: both cores count, so a shared machine does not change the budget, only
the wall time), then runs ``gan_engine.evaluate`` (64 samples, every metric, with the real-photo
ceiling) and writes one JSON per run (``--results``, kept in git: ``bench/results/gan_quality``)
plus an HTML report (in ``--work``). Runs whose JSON exists are skipped on the next invocation;
an interrupted run continues from its last checkpoint with the CPU seconds it had already spent
(recorded beside the checkpoint), so the script can be stopped and resumed at any time, and a
subset can be run with ``--people``, ``--models`` and ``--priors``.

    .venv/bin/python bench/gan_quality.py --plan                      # what the full run takes
    .venv/bin/python bench/gan_quality.py                             # everything (resumable)
    .venv/bin/python bench/gan_quality.py --people Jennifer_Aniston --models engine --priors none
    .venv/bin/python bench/gan_quality.py --summary                   # table of finished runs

The six people (20 to 60 photos each in LFW) are fixed here, not chosen at run time; the
held-out split is ``prepare``'s deterministic one (content-hash order, 15 %). The prior's corpus is
every other LFW person, at most ``--corpus-per-person`` photos each.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# As the product's workers (memorial/celery.py): OpenMP threads that spin while waiting steal
# the CPU from the other runs on a shared machine (and from each other's budgets).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from gan_engine import defaults  # noqa: E402  (torch-free: --plan and --summary stay instant)

#: Six LFW people with 20-60 photos: women and men, several ages and skin tones.
PEOPLE = (
    "Jennifer_Aniston",  # 21
    "Hamid_Karzai",  # 22
    "Laura_Bush",  # 41
    "Vladimir_Putin",  # 49
    "Serena_Williams",  # 52
    "Junichiro_Koizumi",  # 60
)
MODELS = ("engine", "dcgan", "dcgan_bn")
#: none: from scratch; prior: from a prior this script trains on the other LFW people; shipped:
#: (engine only) from the exported prior at ``--prior-path``, the one families' models start from.
PRIORS = ("none", "prior", "shipped")
#: The prior a family's model starts from: the one installed with the engine, else the candidate
#: kept in bench/priors/ until it is measured good enough to install.
SHIPPED_PRIOR = next(
    (
        folder
        for folder in (
            ROOT / "gan_engine" / "weights" / "face-64",
            ROOT / "bench" / "priors" / "face-64",
        )
        if (folder / "prior.json").is_file()
    ),
    ROOT / "gan_engine" / "weights" / "face-64",
)
RESOLUTION, BATCH, SAMPLES, SEED = defaults.RESOLUTION, 16, 64, defaults.SEED
DEFAULT_LFW = ROOT.parent / "shared" / "data" / "faces" / "lfw"
#: Rough wall seconds per run for preparing and evaluating (dlib on 64 samples, SSIM pairs).
EVALUATE_SECONDS, PREPARE_SECONDS_PER_PHOTO = 60, 0.3


def cpu() -> float:
    return time.process_time()


def read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(payload, indent=2))
    os.replace(temporary, path)


# ----- data --------------------------------------------------------------------------------------
def prepare_person(lfw: Path, person: str, work: Path, captions: Path | None = None) -> Path:
    """The person's photos, prepared once; with ``captions`` (a folder of ``<person>.json``
    files mapping photo file names to captions) each photo carries its caption."""
    from gan_engine.data import prepare

    out = work / "data" / (f"{person}-captioned" if captions else person)
    if not (out / "manifest.json").is_file():
        if captions:
            written = json.loads((captions / f"{person}.json").read_text(encoding="utf-8"))
            photos = sorted((lfw / person).glob("*.jpg"))
            if missing := [photo.name for photo in photos if photo.name not in written]:
                raise SystemExit(f"{captions / person}.json has no caption for {missing[:3]}")
            prepare([(photo, written[photo.name]) for photo in photos], out, sizes=(RESOLUTION,))
        else:
            prepare(lfw / person, out, sizes=(RESOLUTION,))
    return out


def prepare_corpus(lfw: Path, work: Path, per_person: int, people: int | None) -> Path:
    """Every LFW person except the six, at most ``per_person`` photos each: the prior's corpus."""
    from gan_engine.data import prepare

    out = work / "data" / f"corpus-{per_person}-{people or 'all'}"
    if not (out / "manifest.json").is_file():
        others = sorted(p for p in lfw.iterdir() if p.is_dir() and p.name not in PEOPLE)
        pairs = [
            (photo, None)
            for folder in others[:people]
            for photo in sorted(folder.glob("*.jpg"))[:per_person]
        ]
        prepare(pairs, out, sizes=(RESOLUTION,), any_person=True)
    return out


# ----- training under a CPU budget ---------------------------------------------------------------
class Budget:
    """CPU seconds spent by a run, persisted beside its checkpoint so a resumed run continues."""

    def __init__(self, run: Path, seconds: float) -> None:
        self.file, self.seconds = run / "budget.json", seconds
        saved = read_json(self.file) or {}
        self.spent_before = float(saved.get("cpu_seconds", 0.0))
        self.start = cpu()

    @property
    def spent(self) -> float:
        return self.spent_before + cpu() - self.start

    def exhausted(self) -> bool:
        return self.spent >= self.seconds

    def save(self, **extra: Any) -> None:
        write_json(self.file, {"cpu_seconds": self.spent, "budget": self.seconds, **extra})


def train_engine(
    data: Path,
    run: Path,
    seconds: float,
    init: Path | None,
    prior: bool,
    options: dict[str, Any] | None = None,
) -> dict:
    import torch

    from gan_engine.train import TrainConfig, pretrain, train

    budget = Budget(run, seconds)
    if budget.exhausted():
        return read_json(budget.file) or {}
    config = TrainConfig(
        data=str(data),
        out=str(run),
        resolution=RESOLUTION,
        steps=10**9,  # the budget, not a step count, ends the run
        batch=BATCH,
        seed=SEED,
        device="cpu",
        sample_every=0,
        checkpoint_every_steps=0,
        checkpoint_every_seconds=60,
        threads=torch.get_num_threads(),  # --threads; the engine would take its CPU share
        init=str(init) if init else None,
        resume=(run / "checkpoint.pt").is_file(),
        **(options or {}),
    )
    # keep_best: every likeness measured while training (against the training photos), so the
    # results show how it moved and which snapshot was kept.
    measured = list((read_json(budget.file) or {}).get("likeness", []))

    def progress(report) -> None:
        if report.event == "sample" and report.likeness is not None:
            measured.append({**report.likeness.to_dict(), "cpu_seconds": round(budget.spent, 1)})
        if report.event == "checkpoint":
            budget.save(step=report.step, likeness=measured)

    run_fn = pretrain if prior else train
    kwargs = {"min_photos": 50} if prior else {}
    result = run_fn(config, progress=progress, should_cancel=budget.exhausted, **kwargs)
    kept = {"kept": result.kept.to_dict()} if result.kept else {}
    budget.save(step=result.step, images=result.step * BATCH, likeness=measured, **kept)
    return read_json(budget.file) or {}


def load_images(data: Path):
    from gan_engine.data import load_faces

    return load_faces(data, RESOLUTION, "train").images


def train_reference(kind: str, data: Path, run: Path, seconds: float, init: Path | None) -> dict:
    import torch

    from bench.reference_models import ReferenceGAN

    budget = Budget(run, seconds)
    gan = ReferenceGAN(kind, RESOLUTION)
    state_file = run / "reference.pt"
    step = 0
    if state_file.is_file():
        state = torch.load(state_file, weights_only=False)
        gan.load_state_dict(state)
        step = state["step"]
        torch.set_rng_state(state["rng"])
    else:
        torch.manual_seed(SEED)
        if init is not None:
            gan.load_state_dict(
                torch.load(init / "reference.pt", weights_only=False), weights_only=True
            )
    images = load_images(data)
    text = torch.zeros(BATCH, 384)
    last_save = time.monotonic()

    def save() -> None:
        run.mkdir(parents=True, exist_ok=True)
        temporary = state_file.with_suffix(".tmp")
        torch.save({**gan.state_dict(), "step": step, "rng": torch.get_rng_state()}, temporary)
        os.replace(temporary, state_file)
        budget.save(step=step, images=step * BATCH)

    while not budget.exhausted():
        gan.train_step(images[torch.randint(len(images), (BATCH,))], text)
        step += 1
        if time.monotonic() - last_save > 60:
            save()
            last_save = time.monotonic()
    save()
    return read_json(budget.file) or {}


def reference_model(kind: str, run: Path):
    """Wrap a reference generator so ``gan_engine.evaluate`` samples it like an engine model."""
    import torch

    from bench.reference_models import ReferenceGAN
    from gan_engine.generate import Model

    state = torch.load(run / "reference.pt", weights_only=False)
    gan = ReferenceGAN(kind, RESOLUTION)
    gan.load_state_dict(state)
    gan.G.eval().requires_grad_(False)
    return Model(
        gan.G, {"text_model": None}, int(state["step"]), torch.device("cpu"), run / "reference.pt"
    )  # type: ignore[arg-type]


# ----- the benchmark -----------------------------------------------------------------------------
#: The engine's options: (argument, TrainConfig field, the value a run name leaves out, the run
#: name's suffix otherwise). The values left out are fixed, not the engine's defaults, so that a
#: stored result keeps its name when a default changes: ``engine`` runs are zero-padded and the
#: default engine runs as ``engine-reflect``. The order is the order of suffixes in run names
#: (results are found by name).
ENGINE_OPTIONS: tuple[tuple[str, str, Any, str], ...] = (
    ("width", "width", 1.0, "-w{:g}"),
    ("loss", "loss", "hinge", "-{}"),
    ("padding", "padding", "zeros", "-{}"),
    ("r1", "r1_gamma", 0.0, "-r1-{:g}"),
    ("lr_g", "lr_g", 2e-4, "-lrg{:g}"),
    ("lr_d", "lr_d", 2e-4, "-lrd{:g}"),
    ("caption_bias", "caption_bias", True, "-nocaptionbias"),
    ("freeze_d", "freeze_d", 0, "-freezed{}"),
    ("keep_best", "keep_best", False, "-best"),
    ("aug_p", "aug_p", 0.0, "-augp{:g}"),
)


#: Options the bench applies itself, around the engine (argument, the value a run name leaves out,
#: the run name's suffix otherwise): experiments the product does not have.
BENCH_OPTIONS: tuple[tuple[str, Any, str], ...] = (("lr_halflife", 0.0, "-lrhalf{:g}"),)


@contextmanager
def falling_learning_rate(halflife_images: float) -> Iterator[None]:
    """Halve the engine's learning rates every ``halflife_images`` images while the block runs
    (0: the engine's constant rate). A pure function of the step like the engine's own schedule,
    so a resumed run falls on the same curve; the experiment stays here, not in the engine."""
    from gan_engine.train import Trainer

    if halflife_images <= 0:
        yield
        return
    constant = Trainer.lr_factor

    def falling(self: Trainer, step: int) -> float:
        return constant(self, step) * 0.5 ** (step * self.batch / halflife_images)

    Trainer.lr_factor = falling  # type: ignore[method-assign]
    try:
        yield
    finally:
        Trainer.lr_factor = constant  # type: ignore[method-assign]


def variant(model: str, args: argparse.Namespace) -> str:
    """The model's name in run keys and results: ``engine-w0.5``, ``engine-nsgan``,
    ``engine-reflect``, ``engine-r1-0.05``, ``engine-lrg0.0001-lrd0.0004`` for the engine's
    options; the values ENGINE_OPTIONS leaves out add nothing. Results of options
    the engine no longer has keep their names (``engine-mbstd4``, ``engine-noiseseed``, ...)."""
    if model != "engine":
        return model
    options = [(argument, default, suffix) for argument, _, default, suffix in ENGINE_OPTIONS]
    return model + "".join(
        suffix.format(getattr(args, argument))
        for argument, default, suffix in [*options, *BENCH_OPTIONS]
        if getattr(args, argument) != default
    )


def engine_options(args: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig fields that the command line's engine options set."""
    return {field: getattr(args, argument) for argument, field, _, _ in ENGINE_OPTIONS}


def ensure_prior(model: str, args: argparse.Namespace, work: Path) -> Path:
    name = variant(model, args)
    run = (
        work
        / "priors"
        / f"{name}-{args.corpus_per_person}-{args.corpus_people or 'all'}-{args.prior_budget:g}"
    )
    corpus = prepare_corpus(args.lfw, work, args.corpus_per_person, args.corpus_people)
    if model == "engine":
        options = {**engine_options(args), "freeze_d": 0}  # a prior trains every layer
        train_engine(corpus, run, args.prior_budget, None, prior=True, options=options)
    else:
        train_reference(model, corpus, run, args.prior_budget, None)
    return run


#: The settings a shipped prior may recommend that the command line can override.
FINE_TUNE_OPTIONS = ("lr_g", "lr_d", "freeze_d")


def shipped_prior(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The shipped prior's label in run names (``face-64-s2487``: a later prior gets new runs)
    and the settings a model started from it uses: its architecture and, unless the command line
    chose others, its recommended fine-tuning settings (as the product applies them)."""
    manifest = read_json(args.prior_path / "prior.json")
    if manifest is None:
        raise SystemExit(f"no prior at {args.prior_path} (--prior-path)")
    settings = dict(manifest["architecture"])
    fine_tune = manifest.get("fine_tune") or {}
    for name in FINE_TUNE_OPTIONS:
        if name in fine_tune and not args.given[name]:
            settings[name] = fine_tune[name]
    return f"{manifest['name']}-s{manifest['step']}", settings


def continue_shorter_run(run: Path, key: str, budget: float, work: Path) -> None:
    """Start ``run`` from the checkpoint of the same run with the largest smaller budget, if
    any: a resumed run continues exactly (optimisers, augmentation, random state), so a 900
    CPU-second run after a 300 one costs 600 more and both are measured."""
    if run.exists():
        return
    stem = key.rsplit("--", 1)[0]
    shorter = []
    for other in (work / "runs").glob(f"{stem}--*"):
        spent = read_json(other / "budget.json") or {}
        if (other / "checkpoint.pt").is_file() and spent.get("budget", budget) < budget:
            shorter.append((spent["budget"], other))
    if shorter:
        source = max(shorter)[1]
        run.mkdir(parents=True)
        for name in ("checkpoint.pt", "budget.json"):
            shutil.copy2(source / name, run / name)
        print(f"{key}: continuing {source.name}", flush=True)


def one_run(person: str, model: str, prior: str, args: argparse.Namespace, work: Path) -> dict:
    from gan_engine.evaluate import evaluate

    captioned = "-captions" if args.captions else ""
    label = prior
    if prior == "shipped":
        label, architecture = shipped_prior(args)
        args = argparse.Namespace(**vars(args))
        args.padding, args.caption_bias = architecture["padding"], architecture["caption_bias"]
        for name in FINE_TUNE_OPTIONS:
            setattr(args, name, architecture.get(name, getattr(args, name)))
    key = f"{person}--{variant(model, args)}{captioned}--{label}--{args.budget:g}"
    result_file = args.results / f"{key}.json"
    if (done := read_json(result_file)) is not None:
        print(f"{key}: done earlier, skipped")
        return done
    data = prepare_person(args.lfw, person, work, args.captions)
    init = ensure_prior(model, args, work) / "checkpoint.pt" if prior == "prior" else None
    if prior == "shipped":
        init = args.prior_path
    run = work / "runs" / key
    continue_shorter_run(run, key, args.budget, work)
    print(f"{key}: training for {args.budget:g} CPU-seconds", flush=True)
    tick = time.perf_counter()
    if model == "engine":
        with falling_learning_rate(args.lr_halflife):
            spent = train_engine(data, run, args.budget, init, False, engine_options(args))
        target: Any = run
    else:
        spent = train_reference(model, data, run, args.budget, init)
        target = reference_model(model, run)
    wall = time.perf_counter() - tick
    report = evaluate(
        target,
        data,
        samples=SAMPLES,
        seed=SEED,
        device="cpu",
        html=work / "reports" / f"{key}.html",
    )
    result = {
        "person": person,
        "model": variant(model, args) + captioned,
        "prior": label,
        "budget_cpu_seconds": args.budget,
        "spent": spent,
        "train_wall_seconds_this_invocation": wall,
        "report": report,
    }
    write_json(result_file, result)
    print(f"{key}: {summary_line(result)}", flush=True)
    return result


#: The quality targets for a person's model (BENCHMARKS.md, "A family's model from the prior"):
#: (figure, test) on one result's figures. The distance target is on the mean over people; here
#: each person is held to it.
TARGETS = {
    "identity": lambda f: f["identity"] >= 0.95,
    "distance": lambda f: f["distance"] is not None and f["distance"] <= 0.42,
    "detection": lambda f: f["detection"] >= 0.98,
    "held-out SSIM": lambda f: f["heldout_ssim"] >= 0.40,
    "train SSIM <= held-out": lambda f: f["train_ssim"] <= f["heldout_ssim"],
    "diversity >= real": lambda f: (
        f["diversity"] is not None
        and f["real_diversity"] is not None
        and f["diversity"] >= f["real_diversity"]
    ),
    "shape within 0.1 of real": lambda f: (
        f["shape"] is not None
        and f["real_shape"] is not None
        and f["shape"] <= f["real_shape"] + 0.1
    ),
}


def figures(result: dict) -> dict[str, Any]:
    """The figures of one run that the summary table shows."""
    r = result["report"]
    i, c = r["identity"], (r.get("ceiling") or {}).get("identity", {})
    return {
        "images": result["spent"].get("images"),
        "identity": i["identity_match_rate"],
        "distance": i["mean_distance"],
        "real_distance": c.get("mean_distance"),
        "detection": i["detection_rate"],
        "heldout_ssim": r["heldout_best"]["ssim"],
        "train_ssim": r["train_best"]["ssim"],
        "diversity": i["diversity_descriptor"],
        "real_diversity": c.get("diversity_descriptor"),
        # Mean SSIM between pairs of samples: lower is more varied. Exposure differences lower it
        # too; evaluate's shape_similarity is the figure that ignores them.
        "similarity": r.get("diversity_ssim"),
        "real_similarity": (r.get("ceiling") or {}).get("diversity_ssim"),
        # Mean pairwise similarity of the samples' shapes, whatever their exposure: one face in
        # many exposures scores near 1 (evaluate.shape_similarity).
        "shape": r.get("shape_similarity"),
        "real_shape": (r.get("ceiling") or {}).get("shape_similarity"),
    }


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def summary_line(result: dict) -> str:
    f = figures(result)
    return (
        f"images {f['images'] or '?'} | identity {_fmt(f['identity'])} "
        f"| distance {_fmt(f['distance'])} (real {_fmt(f['real_distance'])}) "
        f"| detection {_fmt(f['detection'])} | held-out SSIM {_fmt(f['heldout_ssim'])} "
        f"| train SSIM {_fmt(f['train_ssim'])} | diversity {_fmt(f['diversity'])} "
        f"(real {_fmt(f['real_diversity'])}) | sample similarity {_fmt(f['similarity'])} "
        f"(real {_fmt(f['real_similarity'])})"
    )


def markdown_table(results: list[dict]) -> str:
    """One row per run, then the mean per model and prior setting: ready for BENCHMARKS.md."""
    head = (
        "| person | model | prior | images | identity | distance (real) | detection "
        "| held-out SSIM | train SSIM | diversity (real) | sample similarity (real) "
        "| shape similarity (real) | targets met |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    rows, groups = [head], {}
    for result in results:
        f = figures(result)
        met = sum(bool(test(f)) for test in TARGETS.values())
        budget = f"{result['budget_cpu_seconds']:g} CPU-s"
        groups.setdefault((result["model"], result["prior"], budget), []).append(f)
        rows.append(
            f"| {result['person']} | {result['model']} | {result['prior']}, {budget} "
            f"| {f['images']} "
            f"| {_fmt(f['identity'])} | {_fmt(f['distance'])} ({_fmt(f['real_distance'])}) "
            f"| {_fmt(f['detection'])} | {_fmt(f['heldout_ssim'])} | {_fmt(f['train_ssim'])} "
            f"| {_fmt(f['diversity'])} ({_fmt(f['real_diversity'])}) "
            f"| {_fmt(f['similarity'])} ({_fmt(f['real_similarity'])}) "
            f"| {_fmt(f['shape'])} ({_fmt(f['real_shape'])}) | {met}/{len(TARGETS)} |"
        )
    for (model, prior, budget), items in sorted(groups.items()):
        mean = {
            key: statistics.fmean([x[key] for x in items if x[key] is not None])
            if any(x[key] is not None for x in items)
            else None
            for key in items[0]
            if key != "images"
        }
        rows.append(
            f"| **mean of {len(items)}** | {model} | {prior}, {budget} | "
            f"| {_fmt(mean['identity'])} "
            f"| {_fmt(mean['distance'])} ({_fmt(mean['real_distance'])}) | {_fmt(mean['detection'])} "
            f"| {_fmt(mean['heldout_ssim'])} | {_fmt(mean['train_ssim'])} "
            f"| {_fmt(mean['diversity'])} ({_fmt(mean['real_diversity'])}) "
            f"| {_fmt(mean['similarity'])} ({_fmt(mean['real_similarity'])}) "
            f"| {_fmt(mean['shape'])} ({_fmt(mean['real_shape'])}) | |"
        )
    return "\n".join(rows)


def plan(args: argparse.Namespace) -> str:
    runs = len(args.people) * len(args.models) * len(args.priors)
    train_cpu = runs * args.budget
    prior_cpu = len(args.models) * args.prior_budget if "prior" in args.priors else 0
    corpus = (args.corpus_people or 136) * args.corpus_per_person if "prior" in args.priors else 0
    prep = (60 * len(args.people) + corpus) * PREPARE_SECONDS_PER_PHOTO
    wall = (train_cpu + prior_cpu) / (os.cpu_count() or 1) + runs * EVALUATE_SECONDS + prep
    return (
        f"{len(args.people)} people x {len(args.models)} models x {len(args.priors)} prior settings "
        f"= {runs} runs of {args.budget:g} CPU-s ({train_cpu / 3600:.1f} CPU-hours)"
        + (f", + {len(args.models)} priors of {args.prior_budget:g} CPU-s" if prior_cpu else "")
        + f"; about {wall / 3600:.1f} hours of wall time on {os.cpu_count()} idle cores "
        f"(preparing ~{prep / 60:.0f} min, evaluating ~{runs * EVALUATE_SECONDS / 60:.0f} min)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lfw", type=Path, default=DEFAULT_LFW)
    parser.add_argument("--work", type=Path, default=ROOT / "data" / "bench" / "gan_quality")
    parser.add_argument(
        "--results",
        type=Path,
        default=ROOT / "bench" / "results" / "gan_quality",
        help="one JSON per finished run; kept in git so the benchmark accumulates across runs "
        "(checkpoints and reports stay in --work)",
    )
    parser.add_argument("--people", default=",".join(PEOPLE))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument(
        "--priors", default="none,prior", help="none, prior, shipped (comma-separated)"
    )
    parser.add_argument(
        "--prior-path",
        type=Path,
        default=SHIPPED_PRIOR,
        help="the exported prior the 'shipped' runs start from (default: %(default)s)",
    )
    parser.add_argument(
        "--captions",
        type=Path,
        help="a folder of <person>.json captions (photo file name -> caption): every photo "
        "trains with its caption (results as <model>-captions)",
    )
    parser.add_argument("--budget", type=float, default=900.0, help="CPU seconds per run")
    parser.add_argument("--prior-budget", type=float, default=3600.0, help="CPU seconds per prior")
    parser.add_argument("--corpus-per-person", type=int, default=20)
    parser.add_argument("--corpus-people", type=int, help="limit the corpus (smoke runs)")
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="PyTorch threads for every model (default: all cores; 1 trains more images per "
        "CPU-second on a busy machine, see BENCHMARKS.md)",
    )
    parser.add_argument(
        "--width",
        type=float,
        default=defaults.WIDTH,
        help="engine runs with every channel count scaled by this (results as engine-wW)",
    )
    parser.add_argument(
        "--loss",
        choices=list(defaults.LOSSES),
        default=defaults.LOSS,
        help="engine runs with this adversarial loss (nsgan: results as engine-nsgan)",
    )
    parser.add_argument(
        "--padding",
        choices=list(defaults.PADDINGS),
        default=defaults.PADDING,
        help="how G's convolutions pad the border (the engine's default, reflect, names results "
        "engine-reflect; zeros names them engine)",
    )
    parser.add_argument(
        "--r1",
        type=float,
        default=defaults.R1_GAMMA,
        help="engine runs with R1 at this gamma (engine-r1-G)",
    )
    parser.add_argument(
        "--lr-g",
        type=float,
        help=f"engine runs with G at this learning rate (-lrgX; default {defaults.LR_G:g}, or "
        "the shipped prior's recommended rate for --priors shipped)",
    )
    parser.add_argument(
        "--lr-d",
        type=float,
        help=f"engine runs with D at this learning rate (-lrdX; default {defaults.LR_D:g}, or "
        "the shipped prior's recommended rate for --priors shipped)",
    )
    parser.add_argument(
        "--freeze-d",
        type=int,
        help="engine runs from a prior keep D's first N input stages as the prior learned them "
        "(-freezedN; default 0, or the shipped prior's recommendation for --priors shipped)",
    )
    parser.add_argument(
        "--caption-bias",
        action=argparse.BooleanOptionalAction,
        default=defaults.CAPTION_BIAS,
        help="engine runs with (or, -nocaptionbias, without) a bias in G's caption projection",
    )
    parser.add_argument(
        "--keep-best",
        action=argparse.BooleanOptionalAction,
        default=defaults.KEEP_BEST,
        help="engine runs measure their likeness at every sample grid and are evaluated on the "
        "snapshot that measured best (-best), or on their last step (--no-keep-best)",
    )
    parser.add_argument(
        "--aug-p",
        type=float,
        default=defaults.AUG_P,
        help="engine runs start with this augmentation probability (-augpP), which ADA then "
        "adapts as usual",
    )
    parser.add_argument(
        "--lr-halflife",
        type=float,
        default=0.0,
        help="engine runs halve both learning rates every this many images (-lrhalfN; default 0: "
        "the engine's constant rate)",
    )
    parser.add_argument("--plan", action="store_true", help="print what the run takes and stop")
    parser.add_argument("--summary", action="store_true", help="print finished results and stop")
    parser.add_argument("--markdown", action="store_true", help="with --summary: a Markdown table")
    args = parser.parse_args()
    args.people = [p for p in args.people.split(",") if p]
    args.models = [m for m in args.models.split(",") if m]
    args.priors = [p for p in args.priors.split(",") if p]
    args.given = {name: getattr(args, name) is not None for name in FINE_TUNE_OPTIONS}
    args.lr_g = defaults.LR_G if args.lr_g is None else args.lr_g
    args.lr_d = defaults.LR_D if args.lr_d is None else args.lr_d
    args.freeze_d = 0 if args.freeze_d is None else args.freeze_d
    if "shipped" in args.priors and args.models != ["engine"]:
        parser.error("--priors shipped starts the engine from its prior: use --models engine")
    for value, allowed in ((args.people, PEOPLE), (args.models, MODELS), (args.priors, PRIORS)):
        if unknown := sorted(set(value) - set(allowed)):
            parser.error(f"unknown {unknown}; choose from {', '.join(allowed)}")
    print(plan(args), flush=True)
    if args.plan:
        return 0
    if args.summary:
        results = [json.loads(file.read_text()) for file in sorted(args.results.glob("*.json"))]
        if args.markdown:
            print(markdown_table(results))
        for result in [] if args.markdown else results:
            print(
                f"{result['person']}--{result['model']}--{result['prior']}: {summary_line(result)}"
            )
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(args.threads)  # the same for the engine and the references
    if not args.lfw.is_dir():
        raise SystemExit(f"LFW not found at {args.lfw} (--lfw)")
    for person in args.people:
        for model in args.models:
            for prior in args.priors:
                one_run(person, model, prior, args, args.work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
