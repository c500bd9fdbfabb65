"""Keep an uploaded photo's own pixels, losslessly, with its private metadata removed.

Restoration and every later copy start from the family's best copy, so the stored original is
not a re-encoded JPEG: a JPEG keeps its compressed scan data byte for byte (only marker segments
are rewritten), a PNG or lossy/lossless WebP keeps its image chunks byte for byte, a TIFF is
rewritten losslessly (16 bits per sample kept), a GIF or animated picture keeps its first frame as
a lossless PNG. What is removed: EXIF (GPS, camera, dates), XMP, IPTC, comments, embedded
thumbnails, trailers after the image and second frames (MPO). What stays: the colour profile
(ICC) and the colour-space markers needed to show the colours right, and the EXIF orientation
alone (a file with nothing but that one tag) so that a download is shown upright.

HEIC is the exception: its metadata sits in items of the ISO media container that no library
here rewrites without re-encoding, so it is stored as before, a metadata-free JPEG (``None``).
"""

from __future__ import annotations

import contextlib
import io
import struct
import zlib

from PIL import Image

from memorial.memorials.imaging import Rendition

ORIENTATION = 0x0112

#: Stored suffix -> the type a browser is told.
CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".tif": "image/tiff",
    ".webp": "image/webp",
}


class NotKept(ValueError):
    """The file's structure is not what its format promises; keep the re-encoded copy."""


def keep_original(data: bytes, source_format: str, width: int, height: int) -> Rendition | None:
    """The lossless, metadata-free original of `data` (already decoded once by `imaging`), or
    None where this format cannot be kept losslessly. `width`×`height` is the upright size."""
    writers = {
        "JPEG": (_jpeg, ".jpg"),
        "MPO": (_jpeg, ".jpg"),
        "PNG": (_png, ".png"),
        "WEBP": (_webp, ".webp"),
        "TIFF": (_tiff, ".tif"),
        "GIF": (_first_frame_png, ".png"),
    }
    if source_format not in writers:
        return None
    write, suffix = writers[source_format]
    try:
        kept = write(data, _orientation(data))
    except NotKept:
        return None
    return Rendition(kept, width, height, suffix, CONTENT_TYPES[suffix])


def _orientation(data: bytes) -> int:
    """The EXIF orientation (1..8), or 1 when there is none or it cannot be read."""
    with contextlib.suppress(Exception):
        value = Image.open(io.BytesIO(data)).getexif().get(ORIENTATION)
        if isinstance(value, int) and 1 <= value <= 8:
            return value
    return 1


def _orientation_exif(orientation: int) -> bytes:
    """A TIFF-structured EXIF block holding one tag, the orientation (no "Exif" prefix)."""
    return (
        b"MM\x00\x2a\x00\x00\x00\x08"  # big-endian TIFF header, first IFD at offset 8
        + struct.pack(">H", 1)
        + struct.pack(">HHIHH", ORIENTATION, 3, 1, orientation, 0)  # SHORT, count 1, value
        + struct.pack(">I", 0)  # no next IFD
    )


# --- JPEG: rewrite the marker segments, copy the entropy-coded scans unchanged.

SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
# Segments the decoder needs: tables, frame headers, restart interval, number of lines.
_JPEG_CODING = {0xC4, 0xCC, 0xDB, 0xDD, 0xDC} | (set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC})


def _jpeg(data: bytes, orientation: int) -> bytes:
    """SOI, a bare JFIF header, the orientation, the ICC profile and Adobe colour-transform
    markers, every coding segment and scan as uploaded, EOI. Anything after EOI is dropped."""
    if data[:2] != b"\xff\xd8":
        raise NotKept("no start of image")
    head: list[bytes] = []
    body: list[bytes] = []
    pos, end = 2, len(data)
    while True:
        while pos < end and data[pos] == 0xFF and pos + 1 < end and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes before a marker
        if pos + 2 > end or data[pos] != 0xFF:
            raise NotKept("marker expected")
        marker = data[pos + 1]
        if marker == EOI:
            break
        if marker == SOI or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            raise NotKept("unexpected marker")
        if pos + 4 > end:
            raise NotKept("cut short")
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        segment = data[pos : pos + 2 + length]
        if length < 2 or len(segment) != 2 + length:
            raise NotKept("cut short")
        payload = segment[4:]
        pos += 2 + length
        if marker == 0xE0 and payload[:5] == b"JFIF\x00" and len(payload) >= 14 and not head:
            bare = payload[:12] + b"\x00\x00"  # version, units, density; no thumbnail
            head.append(b"\xff\xe0" + struct.pack(">H", len(bare) + 2) + bare)
        elif (
            (marker == 0xE2 and payload[:12] == b"ICC_PROFILE\x00")
            or (marker == 0xEE and payload[:5] == b"Adobe")
            or marker in _JPEG_CODING
        ):
            body.append(segment)
        elif marker == SOS:
            scan_end = _end_of_scan(data, pos)
            body.append(segment + data[pos:scan_end])
            pos = scan_end
        # Everything else (APP1 EXIF/XMP, APP13 IPTC, APP2 MPF, other APPn, COM) is dropped.
    if not any(part[1] == SOS for part in body):
        raise NotKept("no scan")
    if orientation != 1:
        exif = b"Exif\x00\x00" + _orientation_exif(orientation)
        head.append(b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif)
    return b"\xff\xd8" + b"".join(head) + b"".join(body) + b"\xff\xd9"


def _end_of_scan(data: bytes, pos: int) -> int:
    """Where the entropy-coded data starting at `pos` ends: the first marker that is neither
    a stuffed zero (FF 00) nor a restart marker (FF D0..D7)."""
    end = len(data)
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= end:
            raise NotKept("scan runs to the end")
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            pos += 1 if following == 0xFF else 2
            continue
        return pos


# --- PNG: copy the image and colour chunks, drop text, time, EXIF and the rest.

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_KEPT = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"iCCP", b"sRGB", b"gAMA", b"cHRM", b"sBIT"}
_PNG_KEPT |= {b"cICP", b"mDCV", b"cLLI"}  # HDR colour: still colour, not personal


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _png(data: bytes, orientation: int) -> bytes:
    if data[:8] != PNG_SIGNATURE:
        raise NotKept("not a PNG")
    chunks: list[bytes] = []
    pos, end = 8, len(data)
    while True:
        if pos + 8 > end:
            raise NotKept("cut short")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos : pos + 12 + length]
        if len(chunk) != 12 + length:
            raise NotKept("cut short")
        pos += 12 + length
        if kind == b"acTL":
            # Animated: which frame a viewer shows first depends on the chunks around IDAT.
            return _first_frame_png(data, orientation)
        if kind == b"IEND":
            break
        if kind in _PNG_KEPT:
            chunks.append(chunk)
    if orientation != 1:
        chunks.insert(1, _png_chunk(b"eXIf", _orientation_exif(orientation)))
    return PNG_SIGNATURE + b"".join(chunks) + _png_chunk(b"IEND", b"")


def _first_frame_png(data: bytes, orientation: int) -> bytes:
    """The first frame as decoded, saved as PNG: lossless for every mode PNG can hold."""
    image = Image.open(io.BytesIO(data))
    image.seek(0)
    image.load()
    if image.mode not in {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"}:
        raise NotKept(f"no lossless PNG for mode {image.mode}")
    clean = image.copy()  # a copy's info has no text or EXIF to carry over
    params: dict = {}
    if image.mode == "P" and "transparency" in image.info:
        params["transparency"] = image.info["transparency"]
    if image.info.get("icc_profile"):
        params["icc_profile"] = image.info["icc_profile"]
    if orientation != 1:
        params["exif"] = b"Exif\x00\x00" + _orientation_exif(orientation)
    clean.info = {}
    buffer = io.BytesIO()
    clean.save(buffer, "PNG", optimize=False, compress_level=6, **params)
    return buffer.getvalue()


# --- WebP: copy the bitstream chunks of a still picture, drop EXIF and XMP.

_WEBP_KEPT = {b"VP8 ", b"VP8L", b"ALPH", b"ICCP"}
_VP8X_EXIF, _VP8X_XMP, _VP8X_ANIMATION = 0x08, 0x04, 0x02


def _riff_chunk(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) % 2 else b"")


def _webp(data: bytes, orientation: int) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise NotKept("not a WebP")
    vp8x: bytes | None = None
    kept: list[bytes] = []
    pos, end = 12, min(len(data), 8 + struct.unpack("<I", data[4:8])[0])
    while pos + 8 <= end:
        kind = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        payload = data[pos + 8 : pos + 8 + size]
        if len(payload) != size:
            raise NotKept("cut short")
        pos += 8 + size + (size % 2)
        if kind == b"VP8X":
            vp8x = payload
            if payload[0] & _VP8X_ANIMATION:
                return _first_frame_png(data, orientation)
        elif kind in _WEBP_KEPT:
            kept.append(_riff_chunk(kind, payload))
    if not any(chunk[:3] == b"VP8" for chunk in kept):
        raise NotKept("no bitstream")
    if vp8x is not None:
        flags = vp8x[0] & ~(_VP8X_EXIF | _VP8X_XMP)
        if orientation != 1:
            flags |= _VP8X_EXIF
        kept.insert(0, _riff_chunk(b"VP8X", bytes([flags]) + vp8x[1:]))
        if orientation != 1:
            kept.append(_riff_chunk(b"EXIF", _orientation_exif(orientation)))
    # A simple (VP8/VP8L-only) WebP cannot carry EXIF without a VP8X header; it stays upright
    # as the camera stored it, which is how browsers show it anyway.
    body = b"WEBP" + b"".join(kept)
    return b"RIFF" + struct.pack("<I", len(body)) + body


# --- TIFF: the first page's samples rewritten losslessly (deflate), bit depth kept.

_TIFF_PHOTOMETRIC = {"MINISBLACK", "MINISWHITE", "RGB", "PALETTE", "SEPARATED"}


def _tiff(data: bytes, orientation: int) -> bytes:
    import tifffile

    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tiff:
            page = tiff.pages.first
            photometric = tifffile.PHOTOMETRIC(page.photometric).name
            if photometric == "YCBCR" and tifffile.COMPRESSION(page.compression).name in {
                "JPEG",
                "OJPEG",
            }:
                photometric = "RGB"  # the decoder hands back RGB samples
            if photometric not in _TIFF_PHOTOMETRIC:
                raise NotKept(f"photometric {photometric}")
            samples = page.asarray()
            extrasamples = tuple(int(v) for v in page.extrasamples) or None
            colormap = page.colormap if photometric == "PALETTE" else None
            icc = page.tags.valueof(34675)
            planar = tifffile.PLANARCONFIG(page.planarconfig).name.lower()
    except NotKept:
        raise
    except Exception as error:
        raise NotKept(str(error)) from None
    buffer = io.BytesIO()
    tifffile.imwrite(
        buffer,
        samples,
        photometric=photometric.lower(),
        planarconfig=planar if samples.ndim == 3 and photometric != "PALETTE" else None,
        extrasamples=extrasamples,
        colormap=colormap,
        iccprofile=icc,
        compression="adobe_deflate",
        predictor=samples.dtype.kind in "ui" and samples.dtype.itemsize <= 2,
        extratags=[(274, "H", 1, orientation, True)] if orientation != 1 else None,
        metadata=None,  # no ImageDescription with tifffile's JSON
        software=False,
        datetime=False,
        resolution=None,
    )
    return buffer.getvalue()
