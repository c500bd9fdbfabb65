"""Command line: ``python -m gan_engine prepare|train|pretrain|export-prior|generate|augment-preview|evaluate|speak|live|film|restore``.

Progress bars show real progress (step of total, losses, augmentation p, images/s, ETA from the
measured step time). Ctrl-C during training stops after the current step and leaves a checkpoint
that ``train --resume`` continues. Expected failures print one line ``error: ...`` and exit 2.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gan_engine import RESOLUTIONS, defaults
from gan_engine.errors import EngineError

if TYPE_CHECKING:  # torch: imported by the commands that train, not by --help
    from gan_engine.train import TrainConfig


def _ints(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from error


def _training_arguments(parser: argparse.ArgumentParser) -> None:
    """The options shared by ``train`` and ``pretrain`` (a prior is an ordinary run)."""
    parser.add_argument("--data", required=True, help="a prepared data set (from prepare)")
    parser.add_argument("--out", required=True, help="run folder: checkpoint.pt and samples/")
    parser.add_argument(
        "--resolution", type=int, default=defaults.RESOLUTION, choices=list(RESOLUTIONS)
    )
    parser.add_argument("--steps", type=int, default=defaults.STEPS)
    parser.add_argument("--batch", type=int, default=defaults.BATCH, help="0 = automatic")
    parser.add_argument("--seed", type=int, default=defaults.SEED)
    parser.add_argument("--device", default=defaults.DEVICE, help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--threads", type=int, help="CPU threads for PyTorch")
    parser.add_argument(
        "--width", type=float, help=f"channel multiplier (default {defaults.WIDTH}, or the prior's)"
    )
    parser.add_argument(
        "--padding",
        choices=list(defaults.PADDINGS),
        help="how the generator's convolutions pad the border (zeros draws a grid pattern; see "
        f"BENCHMARKS.md; default {defaults.PADDING}, or the prior's)",
    )
    parser.add_argument(
        "--caption-bias",
        action=argparse.BooleanOptionalAction,
        help="a bias in the generator's caption projection (--no-caption-bias: without a caption "
        "only the noise seeds the face's layout; see BENCHMARKS.md; default: with one, or as the "
        "prior was trained)",
    )
    parser.add_argument("--loss", choices=list(defaults.LOSSES), default=defaults.LOSS)
    parser.add_argument("--r1", type=float, default=defaults.R1_GAMMA, help="R1 gamma (0 = off)")
    parser.add_argument(
        "--lr-g",
        type=float,
        help=f"the generator's learning rate (default {defaults.LR_G}, or the prior's "
        "recommendation when train starts from one)",
    )
    parser.add_argument(
        "--lr-d",
        type=float,
        help="the discriminator's learning rate (a faster D delays the samples' sameness; see "
        f"BENCHMARKS.md; default {defaults.LR_D}, or the prior's recommendation)",
    )
    parser.add_argument(
        "--freeze-d",
        type=int,
        help="with --init: keep the discriminator's first N stages as the prior learned them "
        "(default 0, or the prior's recommendation: face-64 recommends 3, see its prior.json)",
    )
    parser.add_argument(
        "--no-ada",
        dest="ada",
        action="store_false",
        default=defaults.ADA,
        help="keep the augmentation probability fixed",
    )
    parser.add_argument(
        "--aug-p",
        type=float,
        default=defaults.AUG_P,
        help="initial (or fixed) augmentation probability",
    )
    parser.add_argument("--sample-every", type=int, default=defaults.SAMPLE_EVERY, help="steps")
    parser.add_argument(
        "--sample-seconds",
        type=float,
        default=defaults.SAMPLE_EVERY_SECONDS,
        help="also a sample grid after this many seconds of training (0 = by steps only)",
    )
    parser.add_argument(
        "--keep-best",
        action=argparse.BooleanOptionalAction,
        default=defaults.KEEP_BEST,
        help="measure the likeness at every sample grid and generate from the snapshot that "
        "looked most like the person (--no-keep-best: from the last step; a prior keeps every "
        "step)",
    )
    parser.add_argument(
        "--checkpoint-every", type=int, default=defaults.CHECKPOINT_EVERY_STEPS, help="steps"
    )
    parser.add_argument(
        "--checkpoint-seconds", type=float, default=defaults.CHECKPOINT_EVERY_SECONDS
    )
    parser.add_argument(
        "--init",
        help="start from a prior (a shipped-style folder: its networks, and for train its "
        "recommended fine-tuning, unless given here) or a run's checkpoint",
    )
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gan_engine", description="Few-shot caption-conditioned face GAN."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    prepare = commands.add_parser(
        "prepare", help="detect, align and crop the person's face in a folder of photos"
    )
    prepare.add_argument(
        "source", help="folder of photos (captions in captions.json or <photo>.txt)"
    )
    prepare.add_argument("out", help="folder for crops and manifest.json")
    prepare.add_argument(
        "--sizes", type=_ints, default=[64, 128, 256], help="crop sizes, e.g. 64,128,256"
    )
    prepare.add_argument("--reference", help="a photo of the person, to pick them in group photos")
    prepare.add_argument("--detector", choices=["hog", "cnn"], default="hog")
    prepare.add_argument("--min-face", type=int, default=40, help="smallest usable face, in pixels")
    prepare.add_argument(
        "--any-person",
        action="store_true",
        help="a corpus of many people for pretrain: sub-folders too, every photo's largest face",
    )

    train = commands.add_parser("train", help="train (or resume) a person's model")
    _training_arguments(train)
    train.add_argument("--min-photos", type=int, default=defaults.MIN_PHOTOS)
    pretrain = commands.add_parser(
        "pretrain",
        help="train a general face prior on a corpus of many people (prepare --any-person)",
    )
    _training_arguments(pretrain)
    pretrain.add_argument("--min-photos", type=int, default=defaults.PRETRAIN_MIN_PHOTOS)

    export = commands.add_parser(
        "export-prior",
        help="the shipped form of a pretraining run: fp16 weights, prior.json, MODEL_CARD.md",
    )
    export.add_argument("run", help="the pretraining run folder (or its checkpoint.pt)")
    export.add_argument("out", help="a new folder, e.g. gan_engine/weights/face-64")
    export.add_argument("--name", help="the prior's name (default: the folder's name)")
    export.add_argument("--data-note", default="", help="the data it learned from and its terms")
    export.add_argument(
        "--command", dest="card_command", default="", help="the exact pretraining command"
    )
    export.add_argument("--cpu-seconds", type=float, help="CPU time the pretraining took")
    export.add_argument("--metrics", help="a JSON file of the prior's measured quality")

    generate = commands.add_parser("generate", help="make new photos (or interpolation frames)")
    generate.add_argument("checkpoint", help="a run folder or checkpoint file")
    generate.add_argument("out", help="folder for the PNG files")
    generate.add_argument("--caption", help="what the photo should show (none = any)")
    generate.add_argument("--count", type=int, default=8)
    generate.add_argument(
        "--seeds", type=_ints, help="explicit seeds, e.g. 1,2,3 (overrides --count)"
    )
    generate.add_argument("--truncation", type=float, default=1.0)
    generate.add_argument(
        "--interpolate", action="store_true", help="frames through --seeds and/or --captions"
    )
    generate.add_argument("--captions", nargs="+", help="captions to interpolate through")
    generate.add_argument("--frames", type=int, default=16, help="frames per interpolation segment")
    generate.add_argument("--device", default="auto")

    preview = commands.add_parser(
        "augment-preview", help="write a grid of augmented training crops"
    )
    preview.add_argument("data", help="a prepared data set")
    preview.add_argument("out", help="PNG file to write")
    preview.add_argument("--p", type=float, default=0.5, help="augmentation probability")
    preview.add_argument("--count", type=int, default=16)
    preview.add_argument("--resolution", type=int, default=64)
    preview.add_argument("--seed", type=int, default=0)

    evaluate = commands.add_parser(
        "evaluate", help="SSIM/PSNR, identity, detection, diversity, KID as JSON and HTML"
    )
    evaluate.add_argument("checkpoint")
    evaluate.add_argument("--data", required=True)
    evaluate.add_argument("--out", help="JSON file to write (default: print)")
    evaluate.add_argument("--html", help="self-contained HTML report to write")
    evaluate.add_argument("--samples", type=int, default=64)
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--device", default="auto")

    speak = commands.add_parser("speak", help="make a portrait speak a voice recording (MP4)")
    speak.add_argument("portrait", help="a photo with a frontal face")
    speak.add_argument("audio", help="WAV, MP3, M4A, OGG or FLAC recording")
    speak.add_argument("-o", "--out", required=True, help="the MP4 to write")
    speak.add_argument("--seed", type=int, default=0, help="blink and sway pattern")
    speak.add_argument("--size", type=int, default=512, help="largest side of the video, px")
    speak.add_argument("--face", type=int, default=0, help="which face, largest first")
    speak.add_argument("--max-seconds", type=float, default=60.0, help="longest recording")
    speak.add_argument("--mouth-photo", action="append", default=[], dest="mouth_photos",
                       help="another photo of the person; the widest open mouth lends its teeth")  # fmt: skip

    living = commands.add_parser("live", help="a living portrait: a few seconds at rest (MP4)")
    living.add_argument("portrait", help="a photo with a frontal face")
    living.add_argument("-o", "--out", required=True, help="the MP4 to write")
    living.add_argument("--seconds", type=float, default=6.0, help="length (at most 15)")
    living.add_argument("--seed", type=int, default=0, help="blink, glance and sway pattern")
    living.add_argument("--size", type=int, default=512, help="largest side of the video, px")
    living.add_argument("--face", type=int, default=0, help="which face, largest first")

    film = commands.add_parser("film", help="a latent-walk film through keyframes (MP4)")
    film.add_argument("checkpoint", help="a run folder or checkpoint file")
    film.add_argument("-o", "--out", required=True, help="the MP4 to write")
    film.add_argument("--seeds", type=_ints, help="keyframe seeds, e.g. 1,2,3")
    film.add_argument("--captions", nargs="+", help="one keyframe per caption")
    film.add_argument("--seconds", type=float, default=8.0, help="length (at most 120)")
    film.add_argument("--fps", type=int, default=24, help="24 or 30")
    film.add_argument("--audio", help="music or voice track (trimmed or padded to the film)")
    film.add_argument("--start-photo", help="a real photo to fade in from")
    film.add_argument("--end-photo", help="a real photo to fade out to")
    film.add_argument("--crossfade", type=float, default=1.0, help="seconds of each fade")
    film.add_argument("--truncation", type=float, default=0.8)
    film.add_argument("--size", type=int, help="frame side in px (default: the model's)")
    film.add_argument("--device", default="cpu", help="cpu, auto, cuda or cuda:N")

    restore = commands.add_parser(
        "restore", help="repair, colourise and/or enlarge an old photo (a labelled PNG)"
    )
    restore.add_argument("input", help="the photo (JPEG, PNG, TIFF at 8 or 16 bits, ...)")
    restore.add_argument("output", help="the PNG to write")
    restore.add_argument("--repair", action="store_true", help="find and fill scratches and dust")
    restore.add_argument(
        "--colourise", action="store_true", help="colour a black-and-white or sepia photo"
    )
    restore.add_argument("--enlarge", type=int, choices=[1, 2, 4], default=1)
    restore.add_argument(
        "--fidelity",
        type=float,
        default=0.3,
        help="0 = the most restored, 1 = the original (a blend between them)",
    )
    restore.add_argument(
        "--hint",
        type=_hint,
        action="append",
        default=[],
        help="a known colour at a point, x,y,#rrggbb (for the colouriser); repeatable",
    )
    restore.add_argument(
        "--reference",
        action="append",
        default=[],
        help="a colour photo of the person, to teach the colouriser their colours; repeatable",
    )
    restore.add_argument(
        "--colour-seconds",
        type=float,
        default=60.0,
        help="CPU-seconds teaching the colouriser the person from --reference photos (0: none)",
    )
    restore.add_argument(
        "--network",
        choices=["memorial", "x4plus", "compact"],
        help="the enlarger (default: memorial, Memorial's own; Real-ESRGAN's x4plus or compact)",
    )
    restore.add_argument("--mask", help="also write the damage mask found, as a PNG")

    restore_train = commands.add_parser(
        "restore-train",
        help="train a restoration network (face enlarger, damage detector, fill or colouriser), "
        "resumably",
    )
    restore_train.add_argument("network", choices=["face_enlarger", "damage", "fill", "colouriser"])
    restore_train.add_argument("--data", required=True, help="a folder of photos (searched deep)")
    restore_train.add_argument(
        "--checkpoint", required=True, help="the resumable checkpoint (kept outside the repo)"
    )
    restore_train.add_argument(
        "--cpu-minutes", type=float, required=True, help="process CPU time in all, resumes included"
    )
    restore_train.add_argument("--batch", type=int, default=16)
    restore_train.add_argument("--lr", type=float, default=5e-4)
    restore_train.add_argument("--threads", type=int, default=1)
    restore_train.add_argument("--limit", type=int, help="use only the first N photos")
    restore_train.add_argument(
        "--export", help="after training, write fp16 weights and model.json to this folder"
    )
    restore_train.add_argument("--name", help="the exported model's name (default: folder name)")
    restore_train.add_argument(
        "--init", help="a restoration model folder to start from (fine-tuning), e.g. restore-fill"
    )
    return parser


def _hint(text: str):
    from gan_engine.restore.colourise import Hint

    try:
        x, y, colour = text.split(",")
        if not (colour.startswith("#") and len(colour) == 7):
            raise ValueError
        rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
        return Hint(int(x), int(y), rgb)  # type: ignore[arg-type]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected x,y,#rrggbb, got {text!r}") from None


def _prepare(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gan_engine.data import prepare

    bar = tqdm(total=None, unit="photo", desc="prepare")

    def progress(done: int, total: int, _message: str) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        manifest = prepare(
            args.source,
            args.out,
            sizes=args.sizes,
            reference=args.reference,
            detector=args.detector,
            min_face=args.min_face,
            any_person=args.any_person,
            progress=progress,
        )
    finally:
        bar.close()
    counts = manifest["counts"]
    print(
        f"{counts['used']} of {counts['photos']} photos used ({counts['train']} train, {counts['heldout']} held out)"
    )
    for skipped in manifest["skipped"]:
        print(
            f"  skipped {Path(skipped['source']).name}: {skipped['reason']} ({skipped['detail']})"
        )
    return 0


#: Network options a prior decides when a run starts from one and the command line does not
#: (its recommended fine-tuning, ``prior.FINE_TUNE_FIELDS``, is decided the same way for
#: ``train``; ``pretrain --init`` continues the prior itself, every layer learning).
PRIOR_ARCHITECTURE_OPTIONS = ("width", "padding", "caption_bias")


def training_config(args: argparse.Namespace) -> TrainConfig:
    """The :class:`gan_engine.train.TrainConfig` that ``train`` or ``pretrain`` asks for.

    Started from a prior folder (``--init``), a run takes the prior's networks and, for
    ``train``, its recommended fine-tuning, as the product does; what the command line says
    wins (a network option the prior's weights cannot take is then refused by name). Options
    not given take TrainConfig's own defaults."""
    import dataclasses

    from gan_engine.prior import FINE_TUNE_FIELDS, adopt_architecture, is_prior_folder
    from gan_engine.train import TrainConfig

    options = (*PRIOR_ARCHITECTURE_OPTIONS, *FINE_TUNE_FIELDS)
    given = {name: getattr(args, name) for name in options if getattr(args, name) is not None}
    config = TrainConfig(
        data=args.data,
        out=args.out,
        resolution=args.resolution,
        steps=args.steps,
        batch=args.batch,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
        loss=args.loss,
        r1_gamma=args.r1,
        ada=args.ada,
        aug_p=args.aug_p,
        sample_every=args.sample_every,
        sample_every_seconds=args.sample_seconds,
        keep_best=args.keep_best,
        checkpoint_every_steps=args.checkpoint_every,
        checkpoint_every_seconds=args.checkpoint_seconds,
        min_photos=args.min_photos,
        init=args.init,
        resume=args.resume,
        **given,
    )
    if args.init and is_prior_folder(args.init):
        adopted = adopt_architecture(config, args.init)
        if args.command != "train":  # continuing a prior: every layer learns, at its own rate
            adopted = dataclasses.replace(
                adopted, **{name: getattr(config, name) for name in FINE_TUNE_FIELDS}
            )
        config = dataclasses.replace(adopted, **given)
    return config


def _train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gan_engine.train import Progress, pretrain, train

    config = training_config(args)
    stop = {"requested": False}

    def on_interrupt(_signum: int, _frame: object) -> None:
        stop["requested"] = True

    previous = signal.signal(signal.SIGINT, on_interrupt)
    bar = tqdm(total=args.steps, unit="step", desc=args.command, dynamic_ncols=True)

    def progress(report: Progress) -> None:
        if report.event == "step":
            bar.n = report.step
            losses = " ".join(f"{k}={v:.3f}" for k, v in report.losses.items() if k in ("d", "g"))
            speed = f"{report.images_per_second:.1f} img/s" if report.images_per_second else ""
            bar.set_postfix_str(f"{losses} p={report.aug_p:.3f} {speed}", refresh=False)
            bar.refresh()
        elif report.event in ("rollback", "batch_reduced"):
            bar.write(f"{report.event}: {report.message}")
        elif report.event == "sample":
            bar.write(f"samples: {report.path}")

    try:
        if args.command == "pretrain":
            result = pretrain(
                config,
                progress=progress,
                should_cancel=lambda: stop["requested"],
                min_photos=args.min_photos,
            )
        else:
            result = train(config, progress=progress, should_cancel=lambda: stop["requested"])
    finally:
        bar.close()
        signal.signal(signal.SIGINT, previous)
    for note in result.notes:
        print(f"note: {note}")
    print(f"{result.status} at step {result.step}; checkpoint {result.checkpoint}")
    return 130 if result.status == "cancelled" else 0


def _export_prior(args: argparse.Namespace) -> int:
    from gan_engine.prior import CardFacts, export_prior

    metrics = None
    if args.metrics:
        try:
            metrics = json.loads(Path(args.metrics).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ValueError(f"cannot read the metrics file {args.metrics}: {error}") from error
    facts = CardFacts(args.data_note, args.card_command, args.cpu_seconds, metrics)
    folder = export_prior(args.run, args.out, name=args.name, facts=facts)
    print(f"wrote {folder} (weights.pt, prior.json, MODEL_CARD.md)")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gan_engine.generate import generate, interpolate, load_model

    model = load_model(args.checkpoint, args.device)
    if args.interpolate:
        paths = interpolate(
            model,
            args.out,
            seeds=args.seeds or [0, 1],
            captions=args.captions,
            frames=args.frames,
            truncation=args.truncation,
        )
    else:
        seeds = args.seeds or list(range(args.count))
        with tqdm(total=len(seeds), unit="image", desc="generate") as bar:
            paths = generate(
                model,
                args.out,
                caption=args.caption,
                seeds=seeds,
                truncation=args.truncation,
                progress=lambda done, _total: bar.update(done - bar.n),
            )
    print(f"wrote {len(paths)} images to {args.out}")
    return 0


def _augment_preview(args: argparse.Namespace) -> int:
    import torch

    from gan_engine.augment import Augment
    from gan_engine.data import load_faces
    from gan_engine.outputs import grid, write_image

    faces = load_faces(args.data, args.resolution, "all")
    torch.manual_seed(args.seed)
    index = torch.arange(args.count) % len(faces.images)
    with torch.no_grad():
        images = Augment()(faces.images[index], args.p)
    columns = max(1, int(args.count**0.5))
    write_image(
        grid(list(images), columns), args.out, kind="augment_preview", metadata={"p": args.p}
    )
    print(f"wrote {args.out}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from gan_engine.evaluate import evaluate

    report = evaluate(
        args.checkpoint,
        args.data,
        samples=args.samples,
        seed=args.seed,
        device=args.device,
        out=args.out,
        html=args.html,
    )
    if args.html:
        print(f"wrote {args.html}")
    if args.out:
        print(f"wrote {args.out}")
    else:
        print(json.dumps(report, indent=2))
    return 0


def _speak(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gan_engine.video.talking import speak

    with tqdm(unit="frame", desc="speak") as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = speak(args.portrait, args.audio, args.out, seed=args.seed, size=args.size,
                       face_index=args.face, max_seconds=args.max_seconds, progress=progress,
                       mouth_photos=args.mouth_photos)  # fmt: skip
    if result.notice:
        print(f"notice: {result.notice}", file=sys.stderr)
    print(f"{result.path} ({result.frames} frames, {result.seconds:.2f} s)")
    return 0


def _live(args: argparse.Namespace) -> int:
    from gan_engine.video.talking import live

    result = live(args.portrait, args.out, seconds=args.seconds, seed=args.seed, size=args.size,
                  face_index=args.face)  # fmt: skip
    print(f"{result.path} ({result.frames} frames, {result.seconds:.2f} s)")
    return 0


def _film(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gan_engine.video.film import make_film

    with tqdm(unit="frame", desc="film") as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = make_film(
            args.checkpoint,
            args.out,
            seeds=args.seeds,
            captions=args.captions,
            seconds=args.seconds,
            fps=args.fps,
            audio_path=args.audio,
            start_image=args.start_photo,
            end_image=args.end_photo,
            crossfade_seconds=args.crossfade,
            truncation=args.truncation,
            device=args.device,
            size=args.size,
            progress=progress,
        )
    print(f"{result.path} ({result.frames} frames, {result.seconds:.2f} s)")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from PIL import Image
    from tqdm import tqdm

    from gan_engine.outputs import write_image
    from gan_engine.restore import Options, restore
    from gan_engine.restore.load import load_photo, to_uint8

    options = Options(
        repair=args.repair,
        colourise=args.colourise,
        enlarge=args.enlarge,
        fidelity=args.fidelity,
        hints=tuple(args.hint),
        network=args.network,
        personal_colour_seconds=args.colour_seconds,
    )
    image = load_photo(args.input)
    bar = tqdm(total=100, unit="%", desc="restore")

    def progress(fraction: float, message: str) -> None:
        bar.n = round(100 * fraction)
        bar.set_description(message.rstrip("."))

    try:
        references = [load_photo(path) for path in args.reference]
        result = restore(image, options, progress, references=references)
    finally:
        bar.close()
    write_image(
        to_uint8(result.image),
        args.output,
        kind="restored",
        metadata={"actions": ",".join(result.actions), "tone": result.tone.tone},
    )
    if args.mask and result.damage is not None:
        Image.fromarray(result.damage.astype("uint8") * 255).save(args.mask)
    print(f"{result.tone.tone} photo; done: {', '.join(result.actions) or 'nothing'}")
    for note in result.notes:
        print(f"  note: {note}")
    return 0


def _restore_train(args: argparse.Namespace) -> int:
    import torch

    from gan_engine.restore import training

    torch.set_num_threads(args.threads)
    photos = training.corpus_for(args.network, training.load_photos(Path(args.data), args.limit))
    print(f"{len(photos)} photos from {args.data}", flush=True)
    plan = training.Plan(args.network, args.cpu_minutes, batch=args.batch, lr=args.lr)
    init = None
    if args.init:
        from gan_engine.restore import models

        init = models.load(Path(args.init))
    training.train(
        plan, photos, Path(args.checkpoint), report=lambda r: print(r, flush=True), init=init
    )
    if args.export:
        folder = Path(args.export)
        facts = {
            "data": str(args.data),
            "photos": len(photos),
            "batch": args.batch,
            "lr": args.lr,
            "threads": args.threads,
            **({"init": args.init} if args.init else {}),
        }
        manifest = training.export(Path(args.checkpoint), folder, args.name or folder.name, facts)
        print(json.dumps(manifest, indent=2))
    return 0


HANDLERS = {
    "prepare": _prepare,
    "train": _train,
    "pretrain": _train,
    "export-prior": _export_prior,
    "generate": _generate,
    "augment-preview": _augment_preview,
    "evaluate": _evaluate,
    "speak": _speak,
    "live": _live,
    "film": _film,
    "restore": _restore,
    "restore-train": _restore_train,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return HANDLERS[args.command](args)
    except (EngineError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
