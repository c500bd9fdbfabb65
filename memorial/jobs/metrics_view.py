"""``/metrics`` for Prometheus: staff (by the policy) or a scraper with the bearer token from
``MEMORIAL_METRICS_TOKEN``. Everyone else gets 404, as for the other staff pages."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from memorial.jobs import metrics
from memorial.policy import Action, allows


def _token_ok(request: HttpRequest) -> bool | None:
    """True/False for a bearer token that matches or not; None when none was sent."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    expected = settings.METRICS_TOKEN
    return bool(expected) and hmac.compare_digest(header[7:].strip(), expected)


@require_GET
def metrics_page(request: HttpRequest) -> HttpResponse:
    token = _token_ok(request)
    if token is False:
        response = HttpResponse("invalid token\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not token and not allows(request.user, Action.MONITOR_QUEUES):
        raise Http404
    response = HttpResponse(metrics.render(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
