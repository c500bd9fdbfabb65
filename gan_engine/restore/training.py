"""Training the restoration networks on real photos with synthetic degradations.

``python -m gan_engine restore-train face_enlarger|damage|fill --data DIR --checkpoint FILE
--cpu-minutes N`` trains one network on every photo under DIR (LFW's general corpus for the
shipped weights), resumably: the checkpoint (network, optimiser, step, CPU seconds spent) is
written every few minutes and at the end, and a second run with the same checkpoint continues
where the first stopped. ``--export FOLDER`` writes the fp16 weights with their manifest
(:mod:`gan_engine.restore.models` checks its SHA-256 on every load).

The degradations are what old prints suffer, drawn at random per sample so no one kind is
learned by heart:

* enlarger: a 128 px crop (biased to the photo's middle, where LFW's faces are) blurred a little
  or not, shrunk 4 times by area averaging, then sometimes noise, JPEG, or grey;
* detector and fill: the whole photo scratched and specked (:func:`gan_engine.restore.damage.scratch` with
  random counts, partly transparent damage, sometimes grey or sepia), a 160 px crop, the exact
  mask as the detector's target; the fill is given the damaged crop and the true mask and
  learns the clean crop inside the mask;
* colouriser: a colour photo's crop (60-100 % of its side) at 96 px, its CIE Lab lightness
  sometimes blurred, noisy, faded or JPEG-compressed as old prints are, the true chroma (a, b)
  as the target. It learns adversarially (pix2pix's recipe: L1 to the true colours, which alone
  gives the safe brownish-grey average, plus a PatchGAN critic that tells real colours from
  predicted ones, which asks for colours as vivid as real photos have). Black-and-white photos of
  the corpus are left out: they would teach it that grey is a right answer.

The learning rate follows a cosine over the CPU budget, so a run given twice the time ends as
calm as a short one.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from gan_engine.errors import DataError
from gan_engine.restore import damage
from gan_engine.restore.networks import (
    AB_SCALE,
    NETWORKS,
    ColourCritic,
    DamageDetector,
    FaceEnlarger,
)
from gan_engine.restore.repair import telea

HR_PATCH = 128
DAMAGE_PATCH = 160
COLOUR_PATCH = 96
#: Photos whose mean chroma (CIE Lab, at 32 px) is under this are black-and-white or near it.
MONOCHROME_CHROMA = 4.0
#: The weight of L1 on the chroma beside the critic's (pix2pix weighs 100 on images in [-1, 1]; a
#: lower weight lets the critic ask for more vivid colours).
COLOUR_L1_WEIGHT = 20.0
SEPIA = np.array([1.0, 0.82, 0.6], np.float32)


@dataclass(frozen=True)
class Plan:
    network: str
    cpu_minutes: float
    batch: int = 16
    lr: float = 5e-4
    seed: int = 0
    critic_lr: float = 2e-4
    #: Learn against a critic where the network has one (the colouriser); False: L1 alone.
    adversarial: bool = True


def load_photos(folder: Path, limit: int | None = None, side: int = 250) -> np.ndarray:
    """Every JPEG/PNG under ``folder`` as one uint8 array (N, side, side, 3), RGB."""
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if limit:
        paths = paths[:limit]
    if not paths:
        raise DataError(f"No photos were found under {folder}.")
    photos = np.empty((len(paths), side, side, 3), np.uint8)
    for index, path in enumerate(paths):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise DataError(f"{path} could not be read as a photo.")
        if image.shape[:2] != (side, side):
            image = cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)
        photos[index] = image[..., ::-1]
    return photos


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    _ok, data = cv2.imencode(
        ".jpg", (image * 255).round().astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    return cv2.imdecode(data, cv2.IMREAD_UNCHANGED).astype(np.float32) / 255.0


def _grey(image: np.ndarray) -> np.ndarray:
    return np.repeat(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)


def enlarger_sample(photo: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(small 32×32×3, truth 128×128×3) floats from one uint8 photo."""
    side = photo.shape[0]
    margin = side // 8
    y, x = (int(v) for v in rng.integers(margin, side - HR_PATCH - margin + 1, size=2))
    truth = photo[y : y + HR_PATCH, x : x + HR_PATCH].astype(np.float32) / 255.0
    if rng.random() < 0.5:
        truth = truth[:, ::-1]
    if rng.random() < 0.2:
        truth = _grey(np.ascontiguousarray(truth))
    truth = np.ascontiguousarray(truth)
    source = truth
    if rng.random() < 0.4:
        source = cv2.GaussianBlur(truth, (0, 0), float(rng.uniform(0.3, 1.5)))
    small = cv2.resize(source, (HR_PATCH // 4, HR_PATCH // 4), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.3:
        small = small + rng.normal(0, rng.uniform(0.003, 0.02), small.shape).astype(np.float32)
    if rng.random() < 0.3:
        small = _jpeg(np.clip(small, 0, 1), int(rng.integers(55, 96)))
    return np.clip(small, 0, 1).astype(np.float32), truth


def damage_sample(photo: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(damaged crop 160×160×3, mask 160×160 float) from one uint8 photo."""
    crop, target, _clean = _damaged(photo, rng)
    return crop, target


def fill_sample(photo: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(the damaged crop filled by Telea inside a mask, with that mask as a 4th channel,
    160×160×4; the clean crop 160×160×3). The mask is the damage as a detector finds it: some
    of the time exact, else grown, with parts missed, or with false specks, so the fill learns
    to work beside damage it was not told about."""
    crop, target, clean = _damaged(photo, rng)
    given = imperfect_mask(target > 0, rng)
    filled = telea(crop, given)
    return np.concatenate([filled, given[..., None].astype(np.float32)], axis=2), clean


def imperfect_mask(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``mask`` as a detector might report it: exact (a quarter of the time), grown by 1-2 px,
    with blobs of it missed, and/or with false specks."""
    given = mask.copy()
    if rng.random() < 0.75:
        if rng.random() < 0.5:
            size = 3 if rng.random() < 0.6 else 5
            given = cv2.dilate(given.astype(np.uint8), np.ones((size, size), np.uint8)) > 0
        if rng.random() < 0.5:  # blobs of the damage missed: what the detector's recall loses
            field = cv2.GaussianBlur(rng.random(mask.shape).astype(np.float32), (0, 0), 6)
            given &= field < np.quantile(field, rng.uniform(0.6, 0.9))
        if rng.random() < 0.3:
            specks = rng.random(mask.shape) < rng.uniform(0.0005, 0.003)
            given |= cv2.dilate(specks.astype(np.uint8), np.ones((2, 2), np.uint8)) > 0
    return given


def _damaged(
    photo: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    image = photo.astype(np.float32) / 255.0
    tone = rng.random()
    if tone < 0.25:
        image = _grey(image)
    elif tone < 0.4:
        image = _grey(image) * SEPIA
    if rng.random() < 0.3:  # faded
        image = 0.15 + 0.7 * image
    hurt, mask = damage.scratch(
        image,
        seed=int(rng.integers(1 << 31)),
        scratches=int(rng.integers(0, 12)),
        specks=int(rng.integers(0, 60)),
    )
    opacity = rng.uniform(0.6, 1.0)
    hurt = np.where(mask[..., None], opacity * hurt + (1 - opacity) * image, image)
    if rng.random() < 0.3:
        hurt = hurt + rng.normal(0, rng.uniform(0.005, 0.03), hurt.shape)
    if rng.random() < 0.3:
        hurt = _jpeg(np.clip(hurt, 0, 1).astype(np.float32), int(rng.integers(60, 96)))
    side = image.shape[0]
    y, x = (int(v) for v in rng.integers(0, side - DAMAGE_PATCH + 1, size=2))
    window = np.s_[y : y + DAMAGE_PATCH, x : x + DAMAGE_PATCH]
    crop = np.clip(hurt[window], 0, 1).astype(np.float32)
    target = mask[window].astype(np.float32)
    clean = image[window].astype(np.float32)
    if rng.random() < 0.5:
        crop, target, clean = crop[:, ::-1], target[:, ::-1], clean[:, ::-1]
    return tuple(np.ascontiguousarray(a) for a in (crop, target, clean))  # type: ignore[return-value]


def colour_photos(photos: np.ndarray) -> np.ndarray:
    """The photos that have colour (mean CIE Lab chroma at 32 px of at least
    ``MONOCHROME_CHROMA``)."""
    keep = []
    for index, photo in enumerate(photos):
        small = cv2.resize(photo, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        chroma = np.hypot(*cv2.cvtColor(small, cv2.COLOR_RGB2Lab)[..., 1:].transpose(2, 0, 1))
        if chroma.mean() >= MONOCHROME_CHROMA:
            keep.append(index)
    return photos[keep]


def colour_sample(photo: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(lightness / 100, 96×96×1, sometimes degraded; chroma / AB_SCALE, 96×96×2)."""
    side = photo.shape[0]
    crop = int(rng.integers(int(0.6 * side), side + 1))
    y, x = (int(v) for v in rng.integers(0, side - crop + 1, size=2))
    image = cv2.resize(
        photo[y : y + crop, x : x + crop],
        (COLOUR_PATCH, COLOUR_PATCH),
        interpolation=cv2.INTER_AREA,
    )
    if rng.random() < 0.5:
        image = image[:, ::-1]
    lab = cv2.cvtColor(np.ascontiguousarray(image, np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    lightness = lab[..., :1] / 100.0
    if rng.random() < 0.3:
        lightness = cv2.GaussianBlur(lightness, (0, 0), float(rng.uniform(0.3, 1.2)))[..., None]
    if rng.random() < 0.3:  # faded: less contrast, lifted blacks
        low = rng.uniform(0.0, 0.2)
        lightness = low + (rng.uniform(0.6, 1.0) - low) * lightness
    if rng.random() < 0.3:
        lightness = lightness + rng.normal(0, rng.uniform(0.005, 0.03), lightness.shape)
    if rng.random() < 0.2:
        grey = np.repeat(np.clip(lightness, 0, 1).astype(np.float32), 3, axis=2)
        lightness = _jpeg(grey, int(rng.integers(50, 96)))[..., :1]
    chroma = lab[..., 1:] / AB_SCALE
    return np.clip(lightness, 0, 1).astype(np.float32), np.ascontiguousarray(chroma, np.float32)


def corpus_for(network: str, photos: np.ndarray) -> np.ndarray:
    """The photos ``network`` learns from: the colouriser only from photos that have colour."""
    return colour_photos(photos) if network == "colouriser" else photos


class Adversary:
    """A critic and its optimiser, for the networks that learn adversarially (the colouriser)."""

    def __init__(self, lr: float) -> None:
        self.critic = ColourCritic()
        self.optimiser = torch.optim.Adam(self.critic.parameters(), lr=lr, betas=(0.5, 0.99))

    def step(self, lightness: torch.Tensor, real: torch.Tensor, fake: torch.Tensor) -> None:
        """One update of the critic: real chroma scores high, predicted chroma low."""
        loss = (
            F.softplus(-self.critic(lightness, real)).mean()
            + F.softplus(self.critic(lightness, fake.detach())).mean()
        )
        self.optimiser.zero_grad(set_to_none=True)
        loss.backward()
        self.optimiser.step()

    def fooled(self, lightness: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """The generator's adversarial loss (non-saturating): small when the critic is fooled."""
        return F.softplus(-self.critic(lightness, fake)).mean()


def colour_loss(
    net: torch.nn.Module,
    lightness: torch.Tensor,
    chroma: torch.Tensor,
    adversary: Adversary | None = None,
) -> torch.Tensor:
    """L1 to the true chroma, plus the critic's judgement when there is one (the critic is
    updated first, on this batch)."""
    predicted = net(lightness)
    loss = COLOUR_L1_WEIGHT * F.l1_loss(predicted, chroma)
    if adversary is not None:
        adversary.step(lightness, chroma, predicted)
        loss = loss + adversary.fooled(lightness, predicted)
    return loss


def _batch(
    photos: np.ndarray, size: int, sample: Callable, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    pairs = [sample(photos[int(i)], rng) for i in rng.integers(0, len(photos), size=size)]
    inputs = torch.from_numpy(np.stack([p[0] for p in pairs])).permute(0, 3, 1, 2)
    targets = torch.from_numpy(np.stack([p[1] for p in pairs]))
    if targets.ndim == 4:
        targets = targets.permute(0, 3, 1, 2)
    return inputs.contiguous(), targets.contiguous()


def enlarger_loss(net: torch.nn.Module, small: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    return F.l1_loss(net(small), truth)


def damage_loss(net: torch.nn.Module, crop: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    logits = net(crop)
    bce = F.binary_cross_entropy_with_logits(logits, mask, pos_weight=torch.tensor(4.0))
    prob = torch.sigmoid(logits)
    dice = 1 - (2 * (prob * mask).sum() + 1) / (prob.sum() + mask.sum() + 1)
    return bce + dice


def fill_loss(net: torch.nn.Module, damaged: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """L1 inside the damage only: everywhere else the fill returns its input."""
    mask = damaged[:, 3]
    painted = net(damaged[:, :3], mask)
    return (painted - clean).abs().sum() / (3 * mask.sum() + 1)


TASKS = {
    "face_enlarger": (enlarger_sample, enlarger_loss),
    "damage": (damage_sample, damage_loss),
    "fill": (fill_sample, fill_loss),
    "colouriser": (colour_sample, colour_loss),
}
#: The networks that learn against a critic.
ADVERSARIAL = {"colouriser"}


def build(network: str) -> torch.nn.Module:
    if network not in NETWORKS:
        raise DataError(f"Unknown network {network!r}; choose one of {', '.join(NETWORKS)}.")
    return NETWORKS[network]()


def train(
    plan: Plan,
    photos: np.ndarray,
    checkpoint: Path | None,
    report: Callable[[dict], None] | None = None,
    save_every_s: float = 300.0,
    init: torch.nn.Module | None = None,
    should_stop: Callable[[], bool] | None = None,
    init_critic: torch.nn.Module | None = None,
) -> torch.nn.Module:
    """Train (or continue) ``plan.network`` until ``plan.cpu_minutes`` of process CPU time in
    all; the checkpoint (if any) is written atomically every ``save_every_s`` CPU seconds and at
    the end. ``init`` (and ``init_critic``, for an adversarial network): trained networks to
    start from (fine-tuning), copied, not changed."""
    torch.manual_seed(plan.seed)
    net = build(plan.network)
    if init is not None:
        net.load_state_dict(init.state_dict())
    adversarial = plan.adversarial and plan.network in ADVERSARIAL
    optimiser = torch.optim.Adam(
        net.parameters(), lr=plan.lr, betas=(0.5, 0.99) if adversarial else (0.9, 0.99)
    )
    adversary = Adversary(plan.critic_lr) if adversarial else None
    if adversary is not None and init_critic is not None:
        adversary.critic.load_state_dict(init_critic.state_dict())
    step, spent = 0, 0.0
    rng = np.random.default_rng(plan.seed)
    if checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        net.load_state_dict(state["net"])
        optimiser.load_state_dict(state["optimiser"])
        if adversary is not None:
            adversary.critic.load_state_dict(state["critic"])
            adversary.optimiser.load_state_dict(state["critic_optimiser"])
        step, spent = state["step"], state["cpu_seconds"]
        rng = np.random.default_rng([plan.seed, step])
    sample, loss_of = TASKS[plan.network]
    extra = {"adversary": adversary} if adversary is not None else {}
    budget = plan.cpu_minutes * 60
    start, last_save, running = time.process_time() - spent, spent, None
    net.train()
    while spent < budget:
        if should_stop and should_stop():
            break
        for group in optimiser.param_groups:
            group["lr"] = plan.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, spent / budget)))
        inputs, targets = _batch(photos, plan.batch, sample, rng)
        loss = loss_of(net, inputs, targets, **extra)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        step += 1
        spent = time.process_time() - start
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if report and step % 50 == 0:
            report({"step": step, "cpu_seconds": round(spent), "loss": round(running, 5)})
        if checkpoint is not None and (spent - last_save >= save_every_s or spent >= budget):
            _save(checkpoint, plan.network, net, optimiser, step, spent, adversary)
            last_save = spent
    return net.eval()


def _save(
    path: Path,
    network: str,
    net,
    optimiser,
    step: int,
    spent: float,
    adversary: Adversary | None = None,
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    state = {
        "network": network,
        "net": net.state_dict(),
        "optimiser": optimiser.state_dict(),
        "step": step,
        "cpu_seconds": spent,
    }
    if adversary is not None:
        state["critic"] = adversary.critic.state_dict()
        state["critic_optimiser"] = adversary.optimiser.state_dict()
    torch.save(state, partial)
    os.replace(partial, path)


def export(checkpoint: Path, folder: Path, name: str, facts: dict) -> dict:
    """Write ``folder/weights.pt`` (fp16, the network only) and ``folder/model.json``."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    network = state["network"]
    buffer = io.BytesIO()
    torch.save({k: v.half() for k, v in state["net"].items()}, buffer)
    data = buffer.getvalue()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "weights.pt").write_bytes(data)
    critic = {}
    if "critic" in state:  # kept so the person's fine-tuning learns against it too
        buffer = io.BytesIO()
        torch.save({k: v.half() for k, v in state["critic"].items()}, buffer)
        (folder / "critic.pt").write_bytes(buffer.getvalue())
        critic = {
            "critic": "critic.pt",
            "critic_sha256": hashlib.sha256(buffer.getvalue()).hexdigest(),
            "critic_size": len(buffer.getvalue()),
        }
    manifest = {
        "name": name,
        "format": 1,
        "network": network,
        "weights": "weights.pt",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        **critic,
        "step": state["step"],
        "cpu_seconds": round(state["cpu_seconds"]),
        **facts,
    }
    (folder / "model.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (folder / "MODEL_CARD.md").write_text(model_card(manifest))
    return manifest


PURPOSE = {
    "face_enlarger": "enlarges faces ×4 (×2 by shrinking its ×4) in restored photos, and is the "
    "start of the person's own enlarger (gan_engine.restore.personal)",
    "damage": "marks scratches, specks and tears in old photos (gan_engine.restore.repair)",
    "fill": "paints the marked damage from its surroundings (gan_engine.restore.repair)",
    "colouriser": "predicts the colours (CIE Lab chroma) of black-and-white and sepia photos "
    "(gan_engine.restore.colourise), and is the start of the person's own colouriser",
}


def model_card(manifest: dict) -> str:
    """The card written beside exported weights: what the network is for, its data and their
    terms, the command, the CPU time and the checksum. Measured quality is added below it."""
    network = manifest["network"]
    return f"""# {manifest["name"]}

What it does: {PURPOSE[network]}. Network `{network}` in `gan_engine/restore/networks.py`.

## Data and terms

{manifest.get("photos", "?")} photos of `{manifest.get("data", "?")}`: LFW (Labeled Faces in
the Wild, deep-funneled; University of Massachusetts, Amherst), every LFW person with fewer than
10 photos, so none of the people any benchmark measures on. LFW is a research benchmark of news
photos whose copyright stays with the photographers; the photos are not shipped, only these
weights. Each photo was degraded synthetically as `gan_engine/restore/training.py` describes.

## Training

    python -m gan_engine restore-train {network} --data {manifest.get("data", "DIR")} \\
        --limit {manifest.get("photos", "N")} --checkpoint CHECKPOINT \\
        --cpu-minutes {round(manifest["cpu_seconds"] / 60)} --batch {manifest.get("batch", 16)} \\
        --lr {manifest.get("lr", 5e-4)} --threads {manifest.get("threads", 1)} --export FOLDER

{manifest["step"]} steps, {manifest["cpu_seconds"] / 60:.0f} CPU-minutes
({manifest.get("threads", 1)} thread), resumable from its checkpoint (kept outside the
repository).

## Weights

`{manifest["weights"]}`: fp16, the network only (no optimiser state), {manifest["size"]} bytes,
SHA-256 `{manifest["sha256"]}`, checked on every load (`gan_engine/restore/models.py`).
{_critic_note(manifest)}"""


def _critic_note(manifest: dict) -> str:
    if "critic" not in manifest:
        return ""
    return f"""
`{manifest["critic"]}`: the critic it learned against (fp16, no optimiser state),
{manifest["critic_size"]} bytes, SHA-256 `{manifest["critic_sha256"]}`, checked on load: the
person's own colouriser is fine-tuned against it (`gan_engine/restore/personal.py`).
"""


__all__ = ["DamageDetector", "FaceEnlarger", "Plan", "export", "load_photos", "train"]
