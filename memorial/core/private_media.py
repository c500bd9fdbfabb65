"""Serve a stored file only after the caller has checked the permission policy.

Local disk: streamed by Django, or handed to nginx with X-Accel-Redirect when
MEMORIAL_X_ACCEL_PREFIX names an internal location. S3: a redirect to a
short-lived signed URL. Files never sit behind a public URL.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.utils.http import content_disposition_header

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


def is_remote(storage) -> bool:
    """Objects in S3 are handed out as signed URLs; local files are streamed or X-Accel'd."""
    from storages.backends.s3 import S3Storage

    return isinstance(storage, S3Storage)


def serve_private(
    field_file: FieldFile,
    *,
    content_type: str,
    download_name: str,
    as_attachment: bool = False,
    request: HttpRequest | None = None,
) -> HttpResponse:
    """``request`` (optional) lets a local file answer a single HTTP Range request with 206, so
    a browser can seek in a video; S3 and nginx (X-Accel) answer ranges themselves."""
    if not field_file or not field_file.name:
        raise Http404
    storage = field_file.storage
    if is_remote(storage):
        disposition = content_disposition_header(as_attachment, download_name)
        url = storage.url(
            field_file.name,
            parameters={
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
            },
        )
        response: HttpResponse = HttpResponseRedirect(url)
    elif settings.MEDIA_X_ACCEL_PREFIX:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = (
            settings.MEDIA_X_ACCEL_PREFIX.rstrip("/") + "/" + field_file.name
        )
        response["Content-Disposition"] = content_disposition_header(as_attachment, download_name)
    else:
        try:
            handle = storage.open(field_file.name, "rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        wanted = request.headers.get("Range", "") if request is not None else ""
        if wanted:
            response = _range_response(handle, wanted, content_type)
            response["Content-Disposition"] = content_disposition_header(
                as_attachment, download_name
            )
        else:
            response = FileResponse(
                handle,
                content_type=content_type,
                as_attachment=as_attachment,
                filename=download_name,
            )
        response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The first..last byte of one ``bytes=a-b`` range, or None when it cannot be satisfied.
    Several ranges in one header are not supported (browsers ask for one)."""
    match = RANGE.match(header.strip())
    if not match or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0:
            return None
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return None
    return start, end


def _range_response(handle, header: str, content_type: str) -> HttpResponse:
    handle.seek(0, 2)
    size = handle.tell()
    span = _byte_range(header, size)
    if span is None:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    start, end = span

    def chunks():
        try:
            handle.seek(start)
            left = end - start + 1
            while left > 0:
                data = handle.read(min(CHUNK, left))
                if not data:
                    break
                left -= len(data)
                yield data
        finally:
            handle.close()

    response = StreamingHttpResponse(chunks(), status=206, content_type=content_type)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    return response
