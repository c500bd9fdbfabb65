"""Pages for memorials, galleries, uploads and members (filled in by the UI work)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise NotImplementedError


dashboard = memorial_create = gallery = memorial_edit = upload = members = _todo
photo_detail = photo_delete = _todo
