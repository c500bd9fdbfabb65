"""The staff queue monitor page and its actions (staff only, by the policy; 404 to others)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from memorial.jobs import monitor, services
from memorial.jobs.models import Job
from memorial.policy import Action, allows


def _act(request: HttpRequest) -> str | None:
    """Do the posted action; return an error message for a bad request, else None."""
    action = request.POST.get("action", "")
    if action == "cancel":
        try:
            job = Job.objects.filter(pk=uuid.UUID(request.POST.get("job", ""))).first()
        except ValueError:
            job = None
        if job is None:
            return _("There is no such job.")
        services.cancel(job, request.user)
        messages.success(request, _("The job was asked to stop."))
        return None
    queue = request.POST.get("queue", "")
    if queue not in monitor.queues():
        return _("There is no such queue.")
    if action == "pause":
        monitor.pause(queue)
        messages.success(request, _("Queue %(queue)s is paused.") % {"queue": queue})
    elif action == "resume":
        monitor.resume(queue)
        messages.success(request, _("Queue %(queue)s runs again.") % {"queue": queue})
    elif action == "retry_failed":
        n = monitor.retry_failed(queue, request.user)
        messages.success(
            request,
            ngettext("%(n)d failed job queued again.", "%(n)d failed jobs queued again.", n)
            % {"n": n},
        )
    elif action == "clear_failed":
        n = monitor.clear_failed(queue)
        messages.success(
            request,
            ngettext(
                "%(n)d failed job cleared from the list.",
                "%(n)d failed jobs cleared from the list.",
                n,
            )
            % {"n": n},
        )
    else:
        return _("Unknown action.")
    return None


@login_required
@require_http_methods(["GET", "POST"])
def queue_monitor(request: HttpRequest) -> HttpResponse:
    if not allows(request.user, Action.MONITOR_QUEUES):
        raise Http404
    if request.method == "POST":
        error = _act(request)
        if error:
            return HttpResponseBadRequest(error)
        return redirect("jobs:monitor")
    return render(request, "jobs/monitor.html", {"snapshot": monitor.snapshot()})
