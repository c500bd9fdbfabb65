"""The audit log for staff: a filterable list and the same selection as CSV."""

from __future__ import annotations

import csv
import json
import uuid
from datetime import datetime, time, timedelta

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date

from memorial.audit.actions import AuditAction
from memorial.audit.models import AuditEntry
from memorial.moderation.views import staff_page
from memorial.policy import Action

CSV_COLUMNS = [
    "id",
    "created_at",
    "actor_id",
    "actor_email",
    "action",
    "target_type",
    "target_id",
    "memorial_id",
    "reason",
    "extra",
    "prev_hash",
    "hash",
]


def _day_start(text: str):
    day = parse_date(text or "")
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.min))


def filtered(params) -> tuple[QuerySet[AuditEntry], dict[str, str]]:
    """Entries matching the query string; invalid values are ignored, not errors."""
    entries = AuditEntry.objects.order_by("-id")
    chosen: dict[str, str] = {}
    action = params.get("action", "").strip()
    if action:
        entries = entries.filter(action=action)
        chosen["action"] = action
    actor = params.get("actor", "").strip()
    if actor:
        entries = entries.filter(actor_email__icontains=actor)
        chosen["actor"] = actor
    memorial = params.get("memorial", "").strip()
    if memorial:
        try:
            entries = entries.filter(memorial_id=uuid.UUID(memorial))
            chosen["memorial"] = memorial
        except ValueError:
            pass
    start = _day_start(params.get("from", ""))
    if start:
        entries = entries.filter(created_at__gte=start)
        chosen["from"] = params["from"]
    end = _day_start(params.get("to", ""))
    if end:
        entries = entries.filter(created_at__lt=end + timedelta(days=1))
        chosen["to"] = params["to"]
    return entries, chosen


@staff_page(Action.VIEW_AUDIT)
def audit_list(request: HttpRequest) -> HttpResponse:
    entries, chosen = filtered(request.GET)
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    actions = sorted(
        {*AuditAction.values, *AuditEntry.objects.values_list("action", flat=True).distinct()}
    )
    labels = dict(AuditAction.choices)
    return render(
        request,
        "audit/audit_list.html",
        {
            "page": page,
            "chosen": chosen,
            "actions": [(a, labels.get(a, a)) for a in actions],
            "query": _without_page(request.GET),
        },
    )


def _without_page(params) -> str:
    params = params.copy()
    params.pop("page", None)
    return params.urlencode()


class _Echo:
    def write(self, value: str) -> str:
        return value


@staff_page(Action.VIEW_AUDIT)
def audit_csv(request: HttpRequest) -> HttpResponse:
    entries, _chosen = filtered(request.GET)
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(CSV_COLUMNS)
        for e in entries.iterator(chunk_size=500):
            yield writer.writerow(
                [
                    _safe(cell)
                    for cell in (
                        e.pk,
                        e.created_at.isoformat(),
                        e.actor_id,
                        e.actor_email,
                        e.action,
                        e.target_type,
                        e.target_id,
                        e.memorial_id,
                        e.reason,
                        json.dumps(e.extra, sort_keys=True, ensure_ascii=False),
                        e.prev_hash,
                        e.hash,
                    )
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="memorial-audit-{stamp}.csv"'
    return response


#: First characters that make a spreadsheet program read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(value) -> str:
    """Keep spreadsheet programs from running a cell as a formula (CSV injection).

    Every cell, not only the free-text ones: an e-mail address such as ``=cmd|'/C calc'!A0@x.org``
    is valid, and targets and actions come from many places."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text
