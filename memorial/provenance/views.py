"""The public "Verify a file" page: does a file carry this instance's provenance?

Anyone may post a file, so the work per request is bounded (memorial.provenance.checks: sizes
checked before decoding, the watermark read from a window) and so is the number of checks at
once: :data:`CHECK_SLOTS` slots, each a thread of :data:`CHECK_POOL`. The view is async, so a
running check holds a pool thread, not daphne's event loop; when every slot is taken the page
answers 503 with Retry-After at once instead of queueing without bound.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from memorial.provenance import checks
from memorial.provenance.forms import VerifyForm

#: Checks that may run at once in this process; one more is refused with 503.
CHECK_SLOTS = threading.BoundedSemaphore(settings.PROVENANCE_VERIFY_CONCURRENCY)
#: The threads that run them: as many as there are slots, so nothing waits in its queue.
CHECK_POOL = ThreadPoolExecutor(
    max_workers=settings.PROVENANCE_VERIFY_CONCURRENCY, thread_name_prefix="provenance-verify"
)
#: What a busy page asks the browser to wait: a bounded check takes a few seconds.
RETRY_AFTER_SECONDS = 15


@dataclass(frozen=True)
class Accepted:
    """A file that may be checked: its bytes and the caller's limits."""

    data: bytes
    limits: checks.Limits


def _accept(request: HttpRequest) -> tuple[VerifyForm, int] | Accepted:
    """Rate limit, form and size checks (no decoding): the file to check, or the form to show
    again with its error and status."""
    form = VerifyForm(request.POST, request.FILES)
    limited = is_ratelimited(
        request,
        group="provenance.verify",
        key="ip",
        rate=getattr(settings, "PROVENANCE_VERIFY_RATE", "60/h"),
        method="POST",
        increment=True,
    )
    if limited:
        form.add_error(None, _("Too many files were checked from your address. Please wait."))
        return form, 429
    if not form.is_valid():
        return form, 400
    upload = form.cleaned_data["file"]
    limits = checks.limits_for(request.user)
    upload.seek(0)
    data = upload.read(limits.max_bytes + 1)
    problem = checks.refusal(max(upload.size or 0, len(data)), data, limits)
    if problem is None:
        return Accepted(data, limits)
    form.add_error("file", problem)
    if not request.user.is_authenticated:
        form.add_error("file", _("Signed-in members of a memorial can check larger files."))
    return form, 413


def _give_back_slot(_done: Future) -> None:
    """Called when a check ends (or is cancelled before it starts), not when its request does:
    a dropped connection must not free a slot whose thread is still busy."""
    CHECK_SLOTS.release()


async def _page(
    request: HttpRequest,
    form: VerifyForm,
    result: checks.Result | None,
    status: int,
    busy: str = "",
) -> HttpResponse:
    context = {"form": form, "result": result, "busy": busy}
    return await sync_to_async(render)(request, "provenance/verify.html", context, status=status)


async def _busy(request: HttpRequest) -> HttpResponse:
    busy = _("Several files are being checked just now. Please try again in a minute.")
    response = await _page(request, VerifyForm(), None, 503, busy)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@require_http_methods(["GET", "POST"])
async def verify_file(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return await _page(request, VerifyForm(), None, 200)
    if not CHECK_SLOTS.acquire(blocking=False):
        return await _busy(request)
    handed_over = False
    try:
        accepted = await sync_to_async(_accept)(request)
        if not isinstance(accepted, Accepted):
            form, status = accepted
            return await _page(request, form, None, status)
        future = CHECK_POOL.submit(checks.inspect, accepted.data, accepted.limits.max_pixels)
        future.add_done_callback(_give_back_slot)
        handed_over = True
    finally:
        if not handed_over:
            CHECK_SLOTS.release()
    finding = await asyncio.wrap_future(future)
    result = await sync_to_async(checks.result_for)(finding, request.user)
    return await _page(request, VerifyForm(), result, 200)
