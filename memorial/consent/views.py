"""Consent pages (filled in by the UI work)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise NotImplementedError


consent_list = consent_withdraw = evidence_file = _todo
