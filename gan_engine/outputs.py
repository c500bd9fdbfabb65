"""The one place where the engine writes image files.

Every PNG the engine produces — aligned crops, sample grids, generated photos, interpolation frames,
augmentation previews — goes through :func:`write_image` (images embedded in the HTML report go
through its twin :func:`encode_png`, which applies the same labels). Keeping a single door means
that labelling, watermarking and signing of generated images cannot be forgotten by one code
path. Writes are atomic (temporary file, then rename) so that a crash never leaves half a PNG.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from PIL import Image, PngImagePlugin

from gan_engine import __version__

if TYPE_CHECKING:
    from gan_engine.provenance import Provenance

#: What an image is; generated kinds are the ones that carry the AI label and provenance.
ImageKind = Literal[
    "crop", "sample_grid", "generated", "frame", "augment_preview", "report", "restored"
]
GENERATED_KINDS: frozenset[str] = frozenset({"sample_grid", "generated", "frame", "restored"})
#: The label each AI-made kind carries (text chunk and visible mark); others say AI-generated.
LABELS: dict[str, str] = {"restored": "AI-restored"}


def label_for(kind: str) -> str:
    return LABELS.get(kind, "AI-generated")


def to_pil(image: Any) -> Image.Image:
    """Convert a PIL image, an HxWx3 uint8 array or a CxHxW tensor in [-1, 1] to an RGB PIL image."""
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    if hasattr(image, "detach"):  # a torch tensor; duck-typed so this module does not import torch
        tensor = image.detach().float().cpu()
        if tensor.ndim != 3:
            raise ValueError(f"expected a CxHxW tensor, got shape {tuple(tensor.shape)}")
        array = ((tensor.clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
        return Image.fromarray(np.ascontiguousarray(array), "RGB")
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 uint8 array, got {array.dtype} {array.shape}")
    return Image.fromarray(array, "RGB")


def grid(images: Sequence[Any], columns: int, pad: int = 2) -> Image.Image:
    """Tile images (same size) into one picture, row by row, on a neutral grey background."""
    if not images:
        raise ValueError("a grid needs at least one image")
    tiles = [to_pil(image) for image in images]
    width, height = tiles[0].size
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new(
        "RGB", (columns * (width + pad) + pad, rows * (height + pad) + pad), (128, 128, 128)
    )
    for index, tile in enumerate(tiles):
        row, column = divmod(index, columns)
        sheet.paste(tile, (pad + column * (width + pad), pad + row * (height + pad)))
    return sheet


#: Metadata never written into a file: a caption or prompt describes a real person in the
#: family's words, and a source file's name can carry a name or a date. Files are downloaded and
#: shared; what stays is what the file is (kind, "generated", engine version) and technical
#: values (seed, step, frame). Provenance itself is in the C2PA manifest and the watermark.
PERSONAL_KEYS: frozenset[str] = frozenset(
    {"caption", "captions", "prompt", "text", "source", "filename", "name", "person", "memorial"}
)


def _png_info(kind: str, metadata: Mapping[str, Any] | None) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", f"memorial gan_engine {__version__}")
    info.add_text("memorial:kind", kind)
    info.add_text("memorial:generated", "true" if kind in GENERATED_KINDS else "false")
    if kind in GENERATED_KINDS:
        info.add_text("memorial:label", label_for(kind))
    for key, value in (metadata or {}).items():
        if key.lower() in PERSONAL_KEYS:
            continue
        info.add_text(f"memorial:{key}", str(value))
    return info


def encode_png(image: Any, *, kind: ImageKind, metadata: Mapping[str, Any] | None = None) -> bytes:
    """The labelled PNG bytes :func:`write_image` would write, for images embedded in a document
    (the HTML report) rather than written as files; same labels, same single door."""
    buffer = io.BytesIO()
    to_pil(image).save(buffer, "PNG", pnginfo=_png_info(kind, metadata))
    return buffer.getvalue()


#: zlib level of a marked picture's PNG. Why not Pillow's 6: level 6 took 2 to 3 times the CPU of
#: level 3 (6.7 s against 3.1 s for a smooth 48-megapixel restored result, 5.1 against 1.6 s for
#: 12 megapixels with film grain) for files 6 to 20 % smaller (BENCHMARKS.md, restore "Speed and
#: memory"); level 1 saved another fifth of the time for files 10 % larger.
PROVENANCE_PNG_LEVEL = 3


def _with_provenance(
    image: Any,
    info: PngImagePlugin.PngInfo,
    provenance: Provenance,
    title: str,
    label: str = "AI-generated",
) -> bytes:
    """PNG bytes of ``image`` watermarked, marked and signed (see :func:`write_image`).

    One 8-bit copy of the picture is made and marked in place (the watermark in bands, the
    visible mark on its corner only), so a big result costs its own size a few times, not in
    floats."""
    from gan_engine.provenance import c2pa_sign
    from gan_engine.provenance.mark import mark_in_place
    from gan_engine.provenance.watermark import MIN_SIDE, Payload, embed, embed_array

    payload = Payload.for_ids(provenance.instance_id, provenance.item_id)
    if (
        isinstance(image, np.ndarray)
        and image.dtype == np.uint8
        and image.shape[2:] == (3,)
        and min(image.shape[:2]) >= MIN_SIDE
    ):
        array = np.array(image)  # the caller's array is left as it was
        embed_array(array, payload)
        picture = Image.fromarray(array, "RGB")
        del array
    else:
        picture = embed(to_pil(image), payload)
    mark_in_place(picture, provenance.mark, label)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", pnginfo=info, compress_level=PROVENANCE_PNG_LEVEL)
    del picture
    if provenance.signer is None:
        return buffer.getvalue()
    return c2pa_sign.sign(buffer.getvalue(), "image/png", provenance, title)


def write_image(
    image: Any,
    path: str | os.PathLike[str],
    *,
    kind: ImageKind,
    metadata: Mapping[str, Any] | None = None,
    provenance: Provenance | None = None,
) -> Path:
    """Write ``image`` as a PNG at ``path`` atomically, labelled with its kind and metadata.

    Generated kinds carry ``memorial:generated = true`` in the PNG text chunks so that a generated
    picture is recognisable as such wherever it travels. With ``provenance`` (generated kinds
    only) the picture also gets, in this order, an invisible watermark (upscaled to 256 px if
    smaller), the visible mark in ``provenance.mark``'s corner, and a C2PA signature when
    ``provenance.signer`` is set — signing last, so the signature covers the final bytes.
    """
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise ValueError(f"the engine writes PNG files only, not {target.name!r}")
    info = _png_info(kind, metadata)
    if provenance is not None:
        if kind not in GENERATED_KINDS:
            raise ValueError(f"provenance marks generated images only, not {kind!r}")
        data = _with_provenance(image, info, provenance, target.name, label_for(kind))
    else:
        buffer = io.BytesIO()
        to_pil(image).save(buffer, "PNG", pnginfo=info)
        data = buffer.getvalue()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


# The video counterpart of write_image (one door for every generated file, images and videos).
from gan_engine.video.output import write_video  # noqa: E402, F401
