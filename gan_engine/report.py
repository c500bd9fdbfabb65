"""The evaluation report as one self-contained HTML file (images embedded, no external links).

Why one file: it is read offline, attached to an issue or archived beside a checkpoint, and must
not break when moved. Every embedded picture passes through :func:`gan_engine.outputs.encode_png`
(the same labels as every written image), so generated samples stay marked as generated even
when someone saves them out of the page.
"""

from __future__ import annotations

import base64
import html
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gan_engine.outputs import ImageKind, encode_png, grid, write_image

#: The quality targets for the default 64 px model, shown beside the measured figures.
TARGETS = {
    "identity_match_rate": ">= 0.95",
    "mean_distance": "<= 0.42",
    "detection_rate": ">= 0.98",
    "heldout_ssim": ">= 0.45",
    "train_ssim": "<= held-out SSIM",
}

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:70rem}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}.pairs{display:flex;flex-wrap:wrap;gap:1rem}
figure{margin:0;text-align:center;font-size:.8rem}img{width:128px;height:128px;image-rendering:pixelated}
.note{color:#555;font-size:.9rem}.generated{outline:2px dashed #b60}
"""


def _img(array: np.ndarray, kind: ImageKind, alt: str, css: str = "") -> str:
    data = base64.b64encode(encode_png(array, kind=kind, metadata={"report": "evaluate"}))
    return (
        f'<img src="data:image/png;base64,{data.decode("ascii")}" alt="{html.escape(alt)}"'
        f' class="{css}">'
    )


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(str(value))


def metric_rows(report: dict[str, Any]) -> list[tuple[str, Any, Any, str]]:
    """(metric, generated, real-photo ceiling, target) rows of the metrics table."""
    ident = report["identity"]
    ceiling = report.get("ceiling") or {}
    ceil_ident = ceiling.get("identity", {})
    ceil_match = ceiling.get("train_best_vs_heldout", {})
    return [
        (
            "identity match rate (< 0.6)",
            ident["identity_match_rate"],
            ceil_ident.get("identity_match_rate"),
            TARGETS["identity_match_rate"],
        ),
        (
            "mean descriptor distance",
            ident["mean_distance"],
            ceil_ident.get("mean_distance"),
            TARGETS["mean_distance"],
        ),
        (
            "face detection rate",
            ident["detection_rate"],
            ceil_ident.get("detection_rate"),
            TARGETS["detection_rate"],
        ),
        (
            "held-out best SSIM",
            report["heldout_best"]["ssim"],
            ceil_match.get("ssim"),
            TARGETS["heldout_ssim"],
        ),
        ("held-out best PSNR (dB)", report["heldout_best"]["psnr"], ceil_match.get("psnr"), ""),
        (
            "training best SSIM (memorisation)",
            report["train_best"]["ssim"],
            None,
            TARGETS["train_ssim"],
        ),
        (
            "diversity: descriptor distance",
            ident["diversity_descriptor"],
            ceil_ident.get("diversity_descriptor"),
            ">= real",
        ),
        (
            "diversity: pairwise SSIM",
            report["diversity_ssim"],
            ceiling.get("diversity_ssim"),
            "<= real",
        ),
        (
            "shape similarity (exposure ignored)",
            report.get("shape_similarity"),
            ceiling.get("shape_similarity"),
            "<= real",
        ),
        ("KID (descriptor space)", report["kid_descriptor"], None, "lower"),
    ]


def write_html(
    report: dict[str, Any],
    heldout: np.ndarray,
    generated: np.ndarray,
    matches: Sequence[tuple[int, float, float]],
    path: str | os.PathLike[str],
    *,
    grid_count: int = 32,
) -> Path:
    """Write the report: metrics against the ceiling, each held-out photo beside its nearest
    generated sample, and a sample sheet. Written atomically (temporary file, then rename)."""
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{_fmt(gen)}</td><td>{_fmt(ceil)}</td>"
        f"<td>{html.escape(target)}</td></tr>"
        for name, gen, ceil, target in metric_rows(report)
    )
    pairs = "".join(
        "<figure>"
        + _img(real, "report", f"held-out photo {i + 1}")
        + _img(generated[index], "generated", f"nearest generated sample {index}", "generated")
        + f"<figcaption>held-out {i + 1} · sample {index}<br>SSIM {score:.3f} · PSNR {db:.1f} dB"
        "</figcaption></figure>"
        for i, (real, (index, score, db)) in enumerate(zip(heldout, matches, strict=True))
    )
    sheet = "".join(
        _img(sample, "generated", f"generated sample {i}", "generated")
        for i, sample in enumerate(generated[:grid_count])
    )
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in report.get("notes", []))
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gan_engine evaluation</title>
<style>{STYLE}</style></head><body>
<h1>Evaluation of {html.escape(Path(str(report["checkpoint"])).parent.name or "the model")}</h1>
<p class="note">Model step {report["model_step"]}, {report["resolution"]} px,
{report["samples"]} generated samples (seed {report["seed"]}, truncation {report["truncation"]});
{report["photos"]["train"]} training and {report["photos"]["heldout"]} held-out photos.
Generated images have a dashed outline and are labelled as generated in their PNG data.</p>
<h2>Metrics</h2>
<p class="note">The ceiling is what the person's real held-out photos score at the same resolution:
read every generated figure against it. {html.escape(report["kid_caveat"])}.</p>
<table><tr><th>metric</th><th>generated</th><th>real photos (ceiling)</th><th>target</th></tr>
{rows}</table>
<ul class="note">{notes}</ul>
<h2>Held-out photos and their nearest generated samples</h2>
<div class="pairs">{pairs}</div>
<h2>Generated samples</h2>
<div>{sheet}</div>
</body></html>
"""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(body)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def write_pictures(
    heldout: np.ndarray,
    generated: np.ndarray,
    matches: Sequence[tuple[int, float, float]],
    folder: str | os.PathLike[str],
    *,
    grid_count: int = 32,
) -> dict[str, str]:
    """The report's pictures as PNG files (for a web page, where data URIs are not wanted):
    ``heldout_pairs.png``, each held-out photo (left) beside its nearest generated sample
    (right), one pair per row; ``samples.png``, a sheet of generated samples. Returns their file
    names by role. Written through :func:`gan_engine.outputs.write_image`, labelled like every
    picture the engine writes (the pairs as a report, the sheet as generated)."""
    target = Path(folder)
    tiles = [
        tile
        for real, (index, _s, _db) in zip(heldout, matches, strict=True)
        for tile in (real, generated[index])
    ]
    written = {}
    if tiles:
        write_image(
            grid(tiles, columns=2),
            target / "heldout_pairs.png",
            kind="report",
            metadata={"report": "evaluate", "layout": "held-out | nearest generated"},
        )
        written["heldout_pairs"] = "heldout_pairs.png"
    sheet = list(generated[:grid_count])
    if sheet:
        write_image(
            grid(sheet, columns=min(8, len(sheet))),
            target / "samples.png",
            kind="sample_grid",
            metadata={"report": "evaluate"},
        )
        written["samples"] = "samples.png"
    return written
