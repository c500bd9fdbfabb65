"""Turn a family's photos into a training set: one aligned face crop per photo, plus a manifest.

``prepare`` is deliberately explicit about every photo it leaves out and why (unreadable, no face,
face too small, not the target person, duplicate): with a few dozen photos, each one matters, and the
family should be able to see what the model learns from.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from gan_engine import MANIFEST_FORMAT
from gan_engine.errors import DataError
from gan_engine.faces import (
    DEFAULT_PADDING,
    SAME_PERSON_DISTANCE,
    Detector,
    Face,
    FaceTools,
    distance,
)
from gan_engine.outputs import write_image

if TYPE_CHECKING:
    import torch

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".heic", ".heif"}
)
DEFAULT_SIZES = (64, 128, 256)
MANIFEST_NAME = "manifest.json"

#: Reason codes for skipped photos (stable strings: the web app translates them).
UNREADABLE = "unreadable"
NO_FACE = "no_face"
FACE_TOO_SMALL = "face_too_small"
NOT_TARGET = "not_target_person"
DUPLICATE = "duplicate"

Source = str | os.PathLike[str] | Sequence[tuple[str | os.PathLike[str], str | None]]
ProgressFn = Callable[[int, int, str], None]


@dataclass
class _Candidate:
    source: Path
    caption: str | None
    digest: str
    image: np.ndarray
    faces: list[Face]


def read_photo(path: Path) -> np.ndarray:
    """Decode a photo to HxWx3 uint8 RGB, honouring the EXIF orientation (phones rotate via EXIF)."""
    try:
        from pillow_heif import register_heif_opener

        register_heif_opener()
    except ImportError:  # pragma: no cover - optional
        pass
    with Image.open(path) as opened:
        opened.load()
        upright = ImageOps.exif_transpose(opened)
        return np.asarray(upright.convert("RGB"))


def _captions_in_folder(folder: Path) -> dict[str, str]:
    """Captions from ``captions.json`` ({"file name": "caption"}), if the folder has one."""
    sidecar = folder / "captions.json"
    if not sidecar.is_file():
        return {}
    try:
        loaded = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(f"{sidecar} is not valid JSON: {error}") from error
    if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
        raise DataError(f'{sidecar} must map file names to caption strings: {{"photo.jpg": "..."}}')
    return {str(key): value for key, value in loaded.items()}


def list_sources(source: Source, *, recursive: bool = False) -> list[tuple[Path, str | None]]:
    """(photo, caption) pairs from a folder (captions.json or ``<photo>.txt`` sidecars) or a list.

    ``recursive`` also walks sub-folders (a corpus laid out one folder per person, as LFW is).
    """
    if isinstance(source, str | os.PathLike):
        folder = Path(source)
        if not folder.is_dir():
            raise DataError(f"the photo folder {folder} does not exist")
        pairs: list[tuple[Path, str | None]] = []
        if recursive:
            for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
                pairs.extend(list_sources(sub, recursive=True))
        captions = _captions_in_folder(folder)
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
                continue
            caption = captions.get(path.name)
            sidecar = path.with_suffix(".txt")
            if caption is None and sidecar.is_file():
                caption = sidecar.read_text(encoding="utf-8").strip()
            pairs.append((path, caption or None))
        return pairs
    return [(Path(path), caption or None) for path, caption in source]


def _atomic_json(path: Path, payload: Any) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(payload, stream, indent=2, ensure_ascii=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _reference_descriptor(
    candidates: list[_Candidate],
    reference: str | os.PathLike[str] | np.ndarray | None,
    tools: FaceTools,
) -> tuple[np.ndarray | None, str]:
    """The target person's descriptor: given, from a reference photo, or the data set's medoid.

    Without a reference, the person who appears alone in the most photos is the target: the medoid
    of single-face photos (falling back to every photo's largest face) is robust to a few strangers.
    """
    if isinstance(reference, np.ndarray):
        return reference.astype(np.float32), "given descriptor"
    if reference is not None:
        path = Path(reference)
        try:
            faces = tools.detect(read_photo(path))
        except (OSError, UnidentifiedImageError, ValueError) as error:
            raise DataError(f"the reference photo {path} cannot be read: {error}") from error
        if not faces:
            raise DataError(f"no face was found in the reference photo {path}")
        return faces[0].descriptor, f"reference photo {path.name}"
    pool = [c.faces[0].descriptor for c in candidates if len(c.faces) == 1]
    if not pool:
        pool = [c.faces[0].descriptor for c in candidates if c.faces]
    if not pool:
        return None, "none (no faces)"
    stack = np.stack(pool)
    distances = np.linalg.norm(stack[:, None, :] - stack[None, :, :], axis=-1)
    return stack[int(distances.sum(axis=1).argmin())], "medoid of the photos"


def heldout_count(n: int, fraction: float) -> int:
    """How many photos to hold out: none below 5 photos (every photo is needed to learn at all)."""
    return 0 if n < 5 else max(1, int(n * fraction))


def prepare(
    source: Source,
    out: str | os.PathLike[str],
    *,
    sizes: Iterable[int] = DEFAULT_SIZES,
    reference: str | os.PathLike[str] | np.ndarray | None = None,
    detector: Detector = "hog",
    min_face: int = 40,
    padding: float = DEFAULT_PADDING,
    threshold: float = SAME_PERSON_DISTANCE,
    heldout_fraction: float = 0.15,
    any_person: bool = False,
    progress: ProgressFn | None = None,
    tools: FaceTools | None = None,
) -> dict[str, Any]:
    """Detect, pick, align and crop the target person's face in every photo; write ``manifest.json``.

    With ``any_person`` there is no target: every photo's largest face is used, folders are walked
    recursively and nothing is held out. That makes a *corpus* of many people's faces, the input
    of :func:`gan_engine.train.pretrain` (a general face prior), recorded as ``mode: corpus``.

    Returns the manifest. Raises :class:`DataError` when no photo is usable (after writing the
    manifest, so the reasons can still be shown).
    """
    sizes = sorted({int(size) for size in sizes})
    if not sizes or any(size < 16 or size > 1024 for size in sizes):
        raise DataError(f"crop sizes must be between 16 and 1024 px, got {sizes}")
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    tools = tools or FaceTools(detector)
    if any_person and reference is not None:
        raise DataError("a corpus of many people (any_person) cannot also have a reference person")
    pairs = list_sources(source, recursive=any_person)
    if not pairs:
        raise DataError(
            "there are no photos to prepare (supported: JPEG, PNG, WebP, HEIC, TIFF, BMP)"
        )

    skipped: list[dict[str, Any]] = []
    candidates: list[_Candidate] = []
    seen: dict[str, Path] = {}
    for index, (path, caption) in enumerate(pairs):
        if progress:
            progress(index, len(pairs), f"detecting faces in {path.name}")
        try:
            raw = path.read_bytes()
            image = read_photo(path)
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as error:
            skipped.append(
                {"source": str(path), "reason": UNREADABLE, "detail": f"cannot be decoded: {error}"}
            )
            continue
        digest = hashlib.sha256(raw).hexdigest()[:16]
        if digest in seen:
            skipped.append(
                {
                    "source": str(path),
                    "reason": DUPLICATE,
                    "detail": f"same file as {seen[digest].name}",
                }
            )
            continue
        seen[digest] = path
        candidates.append(_Candidate(path, caption, digest, image, tools.detect(image)))

    if any_person:
        target, target_origin = None, "none (a corpus of many people)"
    else:
        target, target_origin = _reference_descriptor(candidates, reference, tools)
    entries: list[dict[str, Any]] = []
    for candidate in candidates:
        path = candidate.source
        if not candidate.faces:
            skipped.append({"source": str(path), "reason": NO_FACE, "detail": "no face was found"})
            continue
        large = [face for face in candidate.faces if face.size >= min_face]
        if not large:
            skipped.append(
                {
                    "source": str(path),
                    "reason": FACE_TOO_SMALL,
                    "detail": f"the largest face is {candidate.faces[0].size} px; at least {min_face} px is needed",
                }
            )
            continue
        if target is None:  # a corpus: the largest face, whoever it is
            best, gap = max(large, key=lambda face: face.size), 0.0
        else:
            best = min(large, key=lambda face: distance(face.descriptor, target))
            gap = distance(best.descriptor, target)
        if gap > threshold:
            skipped.append(
                {
                    "source": str(path),
                    "reason": NOT_TARGET,
                    "detail": f"the closest face is at distance {gap:.2f} from the person (limit {threshold})",
                }
            )
            continue
        crops: dict[str, str] = {}
        for size in sizes:
            relative = f"crops/{size}/{candidate.digest}.png"
            write_image(
                tools.align(candidate.image, best, size, padding),
                out_dir / relative,
                kind="crop",
                metadata={"source": path.name},
            )
            crops[str(size)] = relative
        entries.append(
            {
                "id": candidate.digest,
                "source": str(path),
                "caption": candidate.caption,
                "crops": crops,
                "face_box": list(best.box),
                "face_size": best.size,
                "faces_in_photo": len(candidate.faces),
                "distance_to_person": None if target is None else round(gap, 4),
                "descriptor": [round(float(v), 6) for v in best.descriptor],
            }
        )

    # A deterministic held-out split: the photos whose content hashes sort first.
    held = {
        entry["id"]
        for entry in sorted(entries, key=lambda e: e["id"])[
            : 0 if any_person else heldout_count(len(entries), heldout_fraction)
        ]
    }
    for entry in entries:
        entry["split"] = "heldout" if entry["id"] in held else "train"

    manifest = {
        "format": MANIFEST_FORMAT,
        "mode": "corpus" if any_person else "person",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "sizes": sizes,
        "padding": padding,
        "detector": tools.detector_kind,
        "min_face": min_face,
        "threshold": threshold,
        "reference": target_origin,
        "person_descriptor": None if target is None else [round(float(v), 6) for v in target],
        "counts": {
            "photos": len(pairs),
            "used": len(entries),
            "train": len(entries) - len(held),
            "heldout": len(held),
            "skipped": len(skipped),
        },
        "entries": entries,
        "skipped": skipped,
    }
    _remove_stale_crops(out_dir, entries)
    _atomic_json(out_dir / MANIFEST_NAME, manifest)
    if progress:
        progress(len(pairs), len(pairs), "done")
    if not entries:
        reasons = ", ".join(sorted({item["reason"] for item in skipped})) or "none"
        raise DataError(
            f"none of the {len(pairs)} photos has a usable face of the person (reasons: {reasons}); "
            f"see {out_dir / MANIFEST_NAME}"
        )
    return manifest


def _remove_stale_crops(out_dir: Path, entries: list[dict[str, Any]]) -> None:
    """Delete crops from an earlier run that this manifest no longer lists."""
    keep = {out_dir / relative for entry in entries for relative in entry["crops"].values()}
    for crop in (out_dir / "crops").glob("*/*.png"):
        if crop not in keep:
            crop.unlink()


def load_manifest(data_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a prepared data set's manifest."""
    path = Path(data_dir) / MANIFEST_NAME
    if not path.is_file():
        raise DataError(
            f"{Path(data_dir)} is not a prepared data set (no {MANIFEST_NAME}); run prepare first"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise DataError(f"{path} is damaged: {error}") from error
    if manifest.get("format") != MANIFEST_FORMAT:
        raise DataError(
            f"{path} has format {manifest.get('format')!r}; this engine reads format {MANIFEST_FORMAT}"
        )
    return manifest


@dataclass
class FaceSet:
    """Aligned crops of one split at one resolution, in memory (a few dozen photos fit easily)."""

    images: torch.Tensor  # N x 3 x R x R, float in [-1, 1]
    captions: list[str | None]
    ids: list[str]
    descriptors: np.ndarray  # N x 128


def load_crop(data_dir: Path, entry: dict[str, Any], resolution: int) -> np.ndarray:
    """The entry's crop at ``resolution``: the smallest prepared size not below it, downscaled."""
    sizes = sorted(int(size) for size in entry["crops"])
    usable = [size for size in sizes if size >= resolution]
    if not usable:
        raise DataError(
            f"the data set has crops up to {max(sizes)} px; {resolution} px needs prepare --sizes {resolution}"
        )
    with Image.open(data_dir / entry["crops"][str(usable[0])]) as crop:
        picture = crop.convert("RGB")
        if picture.size != (resolution, resolution):
            picture = picture.resize((resolution, resolution), Image.Resampling.LANCZOS)
        return np.asarray(picture)


def load_faces(data_dir: str | os.PathLike[str], resolution: int, split: str = "train") -> FaceSet:
    """Load one split (``train``, ``heldout`` or ``all``) of a prepared data set as tensors."""
    import torch

    folder = Path(data_dir)
    manifest = load_manifest(folder)
    entries = [e for e in manifest["entries"] if split == "all" or e["split"] == split]
    if not entries:
        raise DataError(f"the data set in {folder} has no {split} photos")
    arrays = [load_crop(folder, entry, resolution) for entry in entries]
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    return FaceSet(
        images=images.contiguous(),
        captions=[entry["caption"] for entry in entries],
        ids=[entry["id"] for entry in entries],
        descriptors=np.array([entry["descriptor"] for entry in entries], dtype=np.float32),
    )
