"""The one answer to "may this memorial be used for X?".

Every generative feature (training, generated photos, videos, voice) calls
`may_use` before it starts, in the view, in the API and again in the task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from memorial.consent.models import ConsentRecord, Scope, Status

PENDING = gettext_noop("Consent for “%(scope)s” is waiting for review.")
WITHDRAWN = gettext_noop("Consent for “%(scope)s” was withdrawn.")
REJECTED = gettext_noop("Consent for “%(scope)s” was not approved.")
MISSING = gettext_noop("No consent for “%(scope)s” has been recorded for this memorial.")


@dataclass(frozen=True)
class ConsentDecision:
    allowed: bool
    reason: str
    #: ``reason`` as message id + parameters, so a worker can store it and each reader sees it in
    #: their own language (the format of memorial/jobs/texts.py).
    code: dict[str, Any] = field(default_factory=dict, compare=False)

    def __bool__(self) -> bool:
        return self.allowed


def may_use(memorial, scope: Scope | str) -> ConsentDecision:
    """Allowed only when an approved, not withdrawn, record covers exactly this scope."""
    scope = Scope(scope)
    records = list(ConsentRecord.objects.filter(memorial=memorial))
    if any(r.status == Status.APPROVED and r.covers(scope) for r in records):
        return ConsentDecision(True, "")
    label = Scope(scope).label
    if any(r.status == Status.PENDING and r.covers(scope) for r in records):
        msgid = PENDING
    elif any(r.status == Status.WITHDRAWN and r.covers(scope) for r in records):
        msgid = WITHDRAWN
    elif any(r.status == Status.REJECTED and r.covers(scope) for r in records):
        msgid = REJECTED
    else:
        msgid = MISSING
    with translation.override(None):  # the label's msgid, untranslated
        label_id = str(label)
    code = {"id": msgid, "params": {"scope": {"id": label_id}}}
    return ConsentDecision(False, _(msgid) % {"scope": label}, code)
