"""The one answer to "may this memorial be used for X?".

Every generative feature (training, generated photos, videos, voice) calls
`may_use` before it starts, in the view, in the API and again in the task.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from memorial.consent.models import ConsentRecord, Scope, Status


@dataclass(frozen=True)
class ConsentDecision:
    allowed: bool
    reason: str

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
        reason = _("Consent for “%(scope)s” is waiting for review.") % {"scope": label}
    elif any(r.status == Status.WITHDRAWN and r.covers(scope) for r in records):
        reason = _("Consent for “%(scope)s” was withdrawn.") % {"scope": label}
    elif any(r.status == Status.REJECTED and r.covers(scope) for r in records):
        reason = _("Consent for “%(scope)s” was not approved.") % {"scope": label}
    else:
        reason = _("No consent for “%(scope)s” has been recorded for this memorial.") % {
            "scope": label
        }
    return ConsentDecision(False, reason)
