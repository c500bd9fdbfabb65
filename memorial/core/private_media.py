"""Serve a stored file only after the caller has checked the permission policy.

Local disk: streamed by Django, or handed to nginx with X-Accel-Redirect when
MEMORIAL_X_ACCEL_PREFIX names an internal location. S3: a redirect to a
short-lived signed URL. Files never sit behind a public URL.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header


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
) -> HttpResponse:
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
        response = FileResponse(
            handle, content_type=content_type, as_attachment=as_attachment, filename=download_name
        )
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response
