"""The moderation steps, shared by the staff pages (and later the API): each one
changes state, writes its audit entry and tells the people concerned."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from memorial.audit.actions import AuditAction
from memorial.audit.services import record
from memorial.consent.models import ConsentRecord, Status
from memorial.jobs.retirement import waits_for
from memorial.moderation import deletion, notices, notify
from memorial.moderation import items as item_registry
from memorial.moderation.models import (
    APPEALABLE_STATUSES,
    TakedownRequest,
    TakedownStatus,
    deadline_for,
)
from memorial.moderation.storage import stored_keys
from memorial.policy import SOLE_REVIEWER_REASON_MIN, ConsentReviewCheck, check_consent_review

APPEAL_SALT = "memorial.moderation.appeal"


class ModerationError(ValueError):
    """A step that does not fit the current state; the message is shown as it is."""


# --- Consent review


class ReviewNotAllowed(ModerationError):
    """The reviewer is part of the record (its attester, or a member of the memorial) and someone
    else could review it instead."""


class ConfirmationRequired(ModerationError):
    """The reviewer is part of the record and nobody else could review it: they may decide only
    with a written reason of at least `policy.SOLE_REVIEWER_REASON_MIN` characters."""


def refused_message() -> str:
    return _("Another staff member, who is not part of this family, must review it.")


def confirmation_needed_message() -> str:
    return _(
        "Nobody else can review this record, so you may decide on it yourself if you write "
        "why, in at least %(count)d characters. Your reason is kept in the audit log."
    ) % {"count": SOLE_REVIEWER_REASON_MIN}


def _sole_reviewer_reason(check: ConsentReviewCheck, confirmation: str) -> str:
    """The written reason that lets a reviewer who is part of the record decide ("" when none is
    needed); raises when the policy refuses them or the reason is missing or too short."""
    if check.allowed:
        return ""
    if not check.needs_confirmation:
        raise ReviewNotAllowed(f"{check.reason} {refused_message()}")
    confirmation = confirmation.strip()
    if len(confirmation) < SOLE_REVIEWER_REASON_MIN:
        raise ConfirmationRequired(f"{check.reason} {confirmation_needed_message()}")
    return confirmation


def review_consent(
    record_id, reviewer, *, approve: bool, reason: str, sole_reviewer_reason: str = ""
) -> ConsentRecord:
    """Approve or reject a pending record, with the reviewer's written reason.

    Whether this reviewer may decide on this record is `policy.check_consent_review`; a reviewer
    who is part of it may go ahead only as the sole possible reviewer, with `sole_reviewer_reason`
    (recorded in the audit log before the decision).
    """
    reason = reason.strip()
    if not reason:
        raise ModerationError(_("Please write the reason for your decision."))
    with transaction.atomic():
        consent = (
            ConsentRecord.objects.select_for_update().select_related("memorial").get(pk=record_id)
        )
        if consent.status != Status.PENDING:
            raise ModerationError(_("This consent record has already been reviewed."))
        check = check_consent_review(reviewer, consent)
        confirmation = _sole_reviewer_reason(check, sole_reviewer_reason)
        if confirmation:
            record(
                reviewer,
                AuditAction.CONSENT_SOLE_REVIEWER,
                consent,
                confirmation,
                conflict=str(check.refusal),
                decision="approve" if approve else "reject",
            )
        consent.status = Status.APPROVED if approve else Status.REJECTED
        consent.reviewed_by = reviewer
        consent.review_reason = reason
        consent.status_changed_at = timezone.now()
        consent.save(update_fields=["status", "reviewed_by", "review_reason", "status_changed_at"])
        record(
            reviewer,
            AuditAction.CONSENT_APPROVED if approve else AuditAction.CONSENT_REJECTED,
            consent,
            reason,
            scopes=list(consent.scopes),
            sole_reviewer=bool(confirmation),
        )
        recipients = notices.owner_emails(consent.memorial_id)
        context = {
            "record": consent,
            "memorial": consent.memorial,
            "approved": approve,
            "reason": reason,
            "consent_url": settings.SITE_URL
            + reverse("consent:list", kwargs={"memorial_id": consent.memorial_id}),
        }
        transaction.on_commit(lambda: notify.send("consent_decision", recipients, context))
    return consent


# --- Takedown requests


def submit_takedown(request: TakedownRequest) -> TakedownRequest:
    """Store a new request (unsaved instance from the form), log it and acknowledge it."""
    located = item_registry.locate(request.url)
    request.memorial_id = located.memorial.pk if located.memorial else None
    request.photo_id = located.photo.pk if located.photo else None
    request.status = TakedownStatus.RECEIVED
    request.deadline = deadline_for(request.reason)
    with transaction.atomic():
        request.save(force_insert=True)
        record(
            None,
            AuditAction.TAKEDOWN_RECEIVED,
            request,
            memorial=request.memorial_id,
            reference=request.reference,
            reason_code=request.reason,
            photo=request.photo_id,
        )
        # After the commit, so the request stands whatever the mail server does (notices.py
        # marks what went out; the periodic sweep sends what did not).
        transaction.on_commit(lambda: notices.send_notices(request.pk))
    return request


def _locked(takedown_id) -> TakedownRequest:
    return TakedownRequest.objects.select_for_update().get(pk=takedown_id)


def _log(staff, action: str, takedown: TakedownRequest, reason: str = "", **extra) -> None:
    record(
        staff,
        action,
        takedown,
        reason,
        memorial=takedown.memorial_id,
        reference=takedown.reference,
        **extra,
    )


def start_review(takedown_id, staff) -> TakedownRequest:
    with transaction.atomic():
        takedown = _locked(takedown_id)
        if takedown.status not in (TakedownStatus.RECEIVED, TakedownStatus.APPEALED):
            raise ModerationError(_("This request is not waiting for review."))
        takedown.status = TakedownStatus.UNDER_REVIEW
        takedown.save(update_fields=["status"])
        _log(staff, AuditAction.TAKEDOWN_REVIEW_STARTED, takedown)
    return takedown


def _require_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ModerationError(_("Please write the reasons for your decision."))
    return reason


def _decide(takedown: TakedownRequest, staff, status: str, reason: str) -> None:
    takedown.status = status
    takedown.decided_by = staff
    takedown.decided_at = timezone.now()
    takedown.decision_reason = reason
    takedown.save(
        update_fields=["status", "decided_by", "decided_at", "decision_reason", "removed_items"]
    )


def action_takedown(
    takedown_id, staff, chosen: list[item_registry.Item], reason: str
) -> TakedownRequest:
    """Hide the chosen items and everything derived from them at once, then delete them all."""
    reason = _require_reason(reason)
    if not chosen:
        raise ModerationError(_("Please choose at least one item to remove."))
    with transaction.atomic():
        takedown = _locked(takedown_id)
        if not takedown.is_open:
            raise ModerationError(_("This request has already been decided."))
        everything = item_registry.impact(chosen)
        for kind, group in item_registry.by_kind(everything).items():
            item_registry.HANDLERS[kind].hide(group)  # jobs: retired and stopped at once
            for item in group:
                record(
                    staff,
                    f"{kind}.hidden",
                    (kind, item.id),
                    memorial=item.memorial_id,
                    takedown=takedown.reference,
                )
        takedown.removed_items = [item.ref() for item in everything]
        _decide(takedown, staff, TakedownStatus.ACTIONED, reason)
        _log(staff, AuditAction.TAKEDOWN_ACTIONED, takedown, reason, items=takedown.removed_items)
    # Hidden is committed: whatever happens below, nobody sees the items any more.
    captions = notices.photo_captions(everything)
    purge(takedown)
    notices.tell_owners(everything, reason, captions)
    _tell_decision(takedown)
    return takedown


def remaining(takedown: TakedownRequest) -> list[item_registry.Item]:
    """Items of an actioned request still stored (a failed deletion, to be retried), and the
    files still found in the storage folders of those already gone."""
    refs = takedown.removed_items
    left = item_registry.resolve_items(f"{r['kind']}:{r['id']}" for r in refs)
    present = {(i.kind, i.id) for i in left}
    for ref in refs:
        if (ref["kind"], str(ref["id"])) in present:
            continue
        for folder in item_registry.stored_under(ref):
            left.extend(
                item_registry.Item(deletion.FILE, key, str(ref.get("memorial", "")))
                for key in stored_keys(folder)
            )
    return left


def purge(takedown: TakedownRequest) -> deletion.Outcome | None:
    """Delete what the takedown removed, files included; safe to run again."""
    if not remaining(takedown):
        return None
    return deletion.delete(list(takedown.removed_items), takedown=takedown)


def purge_waiting_for(job) -> None:
    """Purge again each actioned takedown that found ``job`` still running (kept among its
    items): the job has ended now, so its row can go (see moderation/signals.py)."""
    actioned = TakedownRequest.objects.filter(
        memorial_id=job.memorial_id, status=TakedownStatus.ACTIONED
    )
    for takedown in actioned:
        if waits_for(takedown.removed_items, job):
            purge(takedown)


def reject_takedown(takedown_id, staff, reason: str) -> TakedownRequest:
    reason = _require_reason(reason)
    with transaction.atomic():
        takedown = _locked(takedown_id)
        if not takedown.is_open:
            raise ModerationError(_("This request has already been decided."))
        _decide(takedown, staff, TakedownStatus.REJECTED, reason)
        _log(staff, AuditAction.TAKEDOWN_REJECTED, takedown, reason)
    _tell_decision(takedown)
    return takedown


def close_takedown(takedown_id, staff, reason: str) -> TakedownRequest:
    """Final: no further appeal (for example after an appeal was reviewed)."""
    reason = _require_reason(reason)
    with transaction.atomic():
        takedown = _locked(takedown_id)
        if takedown.status == TakedownStatus.CLOSED:
            raise ModerationError(_("This request is already closed."))
        takedown.status = TakedownStatus.CLOSED
        takedown.decided_by = staff
        takedown.decided_at = timezone.now()
        takedown.decision_reason = reason
        takedown.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        _log(staff, AuditAction.TAKEDOWN_CLOSED, takedown, reason)
    notify.send(
        "takedown_closed", [takedown.contact_email], {"takedown": takedown}, takedown.language
    )
    return takedown


def appeal_token(takedown: TakedownRequest) -> str:
    """Signed, tied to this decision: a later decision needs a new link."""
    return signing.dumps(
        {"r": str(takedown.pk), "d": takedown.decided_at.isoformat()}, salt=APPEAL_SALT
    )


def appeal_max_age() -> timedelta:
    return timedelta(days=settings.MEMORIAL_TAKEDOWN_APPEAL_DAYS)


def takedown_from_token(token: str) -> TakedownRequest:
    """The request an appeal link is for; raises signing.BadSignature (or SignatureExpired)."""
    data = signing.loads(token, salt=APPEAL_SALT, max_age=appeal_max_age())
    takedown = TakedownRequest.objects.filter(pk=data.get("r")).first()
    if takedown is None or takedown.decided_at is None:
        raise signing.BadSignature("unknown request")
    if takedown.decided_at.isoformat() != data.get("d"):
        raise signing.BadSignature("a later decision replaced this one")
    return takedown


def appeal(takedown_id, text: str) -> TakedownRequest:
    text = text.strip()
    if not text:
        raise ModerationError(_("Please explain why the decision should be looked at again."))
    with transaction.atomic():
        takedown = _locked(takedown_id)
        if takedown.status not in APPEALABLE_STATUSES:
            raise ModerationError(_("This decision can no longer be appealed."))
        takedown.status = TakedownStatus.APPEALED
        takedown.appeal_text = text
        takedown.appealed_at = timezone.now()
        takedown.deadline = deadline_for(takedown.reason, takedown.appealed_at)
        takedown.save(update_fields=["status", "appeal_text", "appealed_at", "deadline"])
        _log(None, AuditAction.TAKEDOWN_APPEALED, takedown)
    return takedown


def _tell_decision(takedown: TakedownRequest) -> None:
    context = {
        "takedown": takedown,
        "actioned": takedown.status == TakedownStatus.ACTIONED,
        "appeal_url": settings.SITE_URL
        + reverse("moderation:takedown_appeal", kwargs={"token": appeal_token(takedown)}),
        "appeal_days": settings.MEMORIAL_TAKEDOWN_APPEAL_DAYS,
    }
    notify.send("takedown_decision", [takedown.contact_email], context, takedown.language)
