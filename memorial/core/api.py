"""API plumbing shared by every app: one error shape for every 4xx."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Give every API error a `detail` a person can read, plus field errors when there are some."""
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "detail" in data:
        response.data = {
            "detail": str(data["detail"]),
            **{k: v for k, v in data.items() if k != "detail"},
        }
    else:
        response.data = {"detail": "The request was not valid.", "errors": data}
    return response
