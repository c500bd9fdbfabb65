"""The permission policy: the only place that decides whether a user may do something.

Views, API endpoints, media downloads and websocket consumers all call `allows`
(or `require`). Rules are a table of action → roles, so the permission-matrix
test and the code read the same source.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

if TYPE_CHECKING:
    from memorial.consent.models import ConsentRecord
    from memorial.memorials.models import Memorial


class Action(StrEnum):
    CREATE_MEMORIAL = "memorial.create"
    VIEW_MEMORIAL = "memorial.view"
    CHANGE_MEMORIAL = "memorial.change"
    DELETE_MEMORIAL = "memorial.delete"
    VIEW_MEMBERS = "members.view"
    MANAGE_MEMBERS = "members.manage"
    VIEW_PHOTOS = "photos.view"
    UPLOAD_PHOTOS = "photos.upload"
    EDIT_PHOTO = "photo.edit"
    DELETE_PHOTO = "photo.delete"
    RESTORE_PHOTO = "photo.restore"
    DELETE_RECORDING = "recording.delete"
    VIEW_CONSENT = "consent.view"
    MANAGE_CONSENT = "consent.manage"
    WITHDRAW_CONSENT = "consent.withdraw"
    START_GENERATION = "generation.start"
    VIEW_JOBS = "jobs.view"
    CANCEL_JOB = "jobs.cancel"
    REVIEW_CONSENT = "consent.review"
    HANDLE_TAKEDOWNS = "takedown.handle"
    VIEW_AUDIT = "audit.view"
    MONITOR_QUEUES = "queues.monitor"
    ARCHIVE_MEMORIAL = "memorial.archive"
    EXPORT_MEMORIAL = "memorial.export"
    # Gentle viewing: AI-made items are shown to a member only after they chose to see them.
    VIEW_AI_PHOTOS = "ai_photos.view"
    VIEW_AI_VIDEOS = "ai_videos.view"
    CHOOSE_VIEWING = "viewing.choose"
    MANAGE_AI_FEATURES = "ai_features.manage"


OWNER, CONTRIBUTOR, VIEWER, STAFF = "owner", "contributor", "viewer", "staff"

# Who may do what. STAFF are Django staff users: they can look (to review consent
# and takedown requests) but not act as family.
RULES: dict[Action, frozenset[str]] = {
    Action.VIEW_MEMORIAL: frozenset({OWNER, CONTRIBUTOR, VIEWER, STAFF}),
    Action.CHANGE_MEMORIAL: frozenset({OWNER}),
    Action.DELETE_MEMORIAL: frozenset({OWNER}),
    Action.VIEW_MEMBERS: frozenset({OWNER, CONTRIBUTOR, VIEWER, STAFF}),
    Action.MANAGE_MEMBERS: frozenset({OWNER}),
    Action.VIEW_PHOTOS: frozenset({OWNER, CONTRIBUTOR, VIEWER, STAFF}),
    Action.UPLOAD_PHOTOS: frozenset({OWNER, CONTRIBUTOR}),
    Action.EDIT_PHOTO: frozenset({OWNER, CONTRIBUTOR}),
    Action.DELETE_PHOTO: frozenset({OWNER, CONTRIBUTOR}),
    Action.RESTORE_PHOTO: frozenset({OWNER, CONTRIBUTOR}),
    Action.DELETE_RECORDING: frozenset({OWNER, CONTRIBUTOR}),  # a contributor: their own only
    Action.VIEW_CONSENT: frozenset({OWNER, CONTRIBUTOR, VIEWER, STAFF}),
    Action.MANAGE_CONSENT: frozenset({OWNER}),
    Action.WITHDRAW_CONSENT: frozenset({OWNER}),
    Action.START_GENERATION: frozenset({OWNER, CONTRIBUTOR}),
    Action.VIEW_JOBS: frozenset({OWNER, CONTRIBUTOR, VIEWER, STAFF}),
    # Staff may stop a job (the queue monitor); starting one is for the family.
    Action.CANCEL_JOB: frozenset({OWNER, CONTRIBUTOR, STAFF}),
    Action.REVIEW_CONSENT: frozenset({STAFF}),
    Action.HANDLE_TAKEDOWNS: frozenset({STAFF}),
    Action.VIEW_AUDIT: frozenset({STAFF}),
    Action.MONITOR_QUEUES: frozenset({STAFF}),
    Action.ARCHIVE_MEMORIAL: frozenset({OWNER}),
    # The family's own copy of everything: owners only (contributors see the gallery already,
    # but the zip also holds consent records and every member's uploads in one go).
    Action.EXPORT_MEMORIAL: frozenset({OWNER}),
    # Members also need their own choice (VIEWING_CHOICE below); staff review what is there.
    Action.VIEW_AI_PHOTOS: frozenset({OWNER, CONTRIBUTOR, VIEWER, STAFF}),
    Action.VIEW_AI_VIDEOS: frozenset({OWNER, CONTRIBUTOR, VIEWER, STAFF}),
    Action.CHOOSE_VIEWING: frozenset({OWNER, CONTRIBUTOR, VIEWER}),
    # Switching AI features off (or on again) for the memorial, independently of consent.
    Action.MANAGE_AI_FEATURES: frozenset({OWNER}),
}
#: The member's own "show …" switch (on memorials.Membership) each of these also needs.
VIEWING_CHOICE = {Action.VIEW_AI_PHOTOS: "show_ai_photos", Action.VIEW_AI_VIDEOS: "show_ai_videos"}
# Refused while a memorial is archived or waiting for deletion: it stays viewable and
# exportable, consent can still be withdrawn, jobs can still be cancelled, members managed,
# and the owner can unarchive it or cancel the deletion.
BLOCKED_WHEN_READ_ONLY = frozenset(
    {
        Action.CHANGE_MEMORIAL,
        Action.UPLOAD_PHOTOS,
        Action.EDIT_PHOTO,
        Action.DELETE_PHOTO,
        Action.DELETE_RECORDING,
        Action.MANAGE_CONSENT,
        Action.START_GENERATION,
        Action.RESTORE_PHOTO,
    }
)
# Staff work that concerns no single memorial: decided by the staff flag alone.
#: A contributor may do these only to what they uploaded (the target's ``uploaded_by``).
OWN_UPLOADS_ONLY = frozenset({Action.DELETE_PHOTO, Action.DELETE_RECORDING})
STAFF_ONLY = frozenset(
    {Action.REVIEW_CONSENT, Action.HANDLE_TAKEDOWNS, Action.VIEW_AUDIT, Action.MONITOR_QUEUES}
)


def role_of(user: Any, memorial: Memorial) -> str | None:
    """The user's role in this memorial, cached on the user object for the request."""
    if user is None or not user.is_authenticated:
        return None
    cache: dict = user.__dict__.setdefault("_memorial_roles", {})
    if memorial.pk not in cache:
        from memorial.memorials.models import Membership

        cache[memorial.pk] = (
            Membership.objects.filter(memorial_id=memorial.pk, user_id=user.pk)
            .values_list("role", flat=True)
            .first()
        )
    return cache[memorial.pk]


def forget_roles(user: Any) -> None:
    """Drop the per-request role and viewing-choice caches after membership changes."""
    user.__dict__.pop("_memorial_roles", None)
    user.__dict__.pop("_memorial_viewing", None)


def viewing_choice(user: Any, memorial: Memorial) -> dict[str, Any] | None:
    """The member's gentle-viewing choice (chosen_at, show_ai_photos, show_ai_videos), cached on
    the user for the request; None for non-members."""
    if user is None or not user.is_authenticated:
        return None
    cache: dict = user.__dict__.setdefault("_memorial_viewing", {})
    if memorial.pk not in cache:
        from memorial.memorials.models import Membership

        cache[memorial.pk] = (
            Membership.objects.filter(memorial_id=memorial.pk, user_id=user.pk)
            .values("viewing_chosen_at", "show_ai_photos", "show_ai_videos")
            .first()
        )
    return cache[memorial.pk]


def _memorial_of(target: Any) -> Memorial | None:
    from memorial.memorials.models import Memorial

    if target is None or isinstance(target, Memorial):
        return target
    return target.memorial


def allows(user: Any, action: Action, target: Any = None, *, ignore_state: bool = False) -> bool:
    """May `user` do `action` on `target` (a memorial, or anything with `.memorial`)?

    `ignore_state` asks about the role alone, as if the memorial were not read-only (to show
    a disabled control with its reason rather than hide it).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if action == Action.CREATE_MEMORIAL:
        return True
    if action in STAFF_ONLY:
        return bool(user.is_staff)
    memorial = _memorial_of(target)
    if memorial is None:
        return False
    if action in BLOCKED_WHEN_READ_ONLY and memorial.is_read_only and not ignore_state:
        return False
    allowed = RULES[action]
    role = role_of(user, memorial)
    if role is not None and role in allowed:
        if action in VIEWING_CHOICE:
            # Until a member chooses, AI-made items stay hidden from them.
            choice = viewing_choice(user, memorial) or {}
            return bool(choice.get(VIEWING_CHOICE[action]))
        if action in OWN_UPLOADS_ONLY and role == CONTRIBUTOR:
            # Contributors may take back their own uploads; owners decide about the rest.
            return getattr(target, "uploaded_by_id", None) == user.pk
        return True
    return bool(user.is_staff) and STAFF in allowed


def read_only_reason(action: Action, target: Any = None) -> str:
    """Why `action` is refused because of the memorial's state ("" when that is not why)."""
    from django.utils.formats import date_format
    from django.utils.timezone import localtime
    from django.utils.translation import gettext

    memorial = _memorial_of(target)
    if memorial is None or action not in BLOCKED_WHEN_READ_ONLY or not memorial.is_read_only:
        return ""
    if memorial.deletion_pending:
        return gettext(
            "This memorial will be deleted on %(date)s, so it can no longer be changed. "
            "Its owner can cancel the deletion until then."
        ) % {"date": date_format(localtime(memorial.delete_after), "DATE_FORMAT")}
    return gettext(
        "This memorial is archived: it can be viewed and downloaded, but not changed. "
        "Its owner can unarchive it."
    )


def can_see(user: Any, memorial: Memorial) -> bool:
    return allows(user, Action.VIEW_MEMORIAL, memorial)


def visible_memorials(user: Any):
    """The memorials `user` may see, as a query: `allows(VIEW_MEMORIAL)` for lists."""
    from memorial.memorials.models import Memorial

    if user is None or not user.is_authenticated or not user.is_active:
        return Memorial.objects.none()
    if user.is_staff and STAFF in RULES[Action.VIEW_MEMORIAL]:
        return Memorial.objects.all()
    roles = {r for r in RULES[Action.VIEW_MEMORIAL] if r != STAFF}
    return Memorial.objects.filter(memberships__user=user, memberships__role__in=roles)


def require(user: Any, action: Action, target: Any = None) -> None:
    """Raise 404 when the user may not even see the memorial (no existence leak), else 403."""
    if allows(user, action, target):
        return
    memorial = _memorial_of(target)
    if memorial is not None and not can_see(user, memorial):
        raise Http404
    # The 403 page shows the reason when the memorial's state is why (archived, deleting).
    raise PermissionDenied(read_only_reason(action, target))


# --- Reviewing consent: nobody decides on a record they are part of.

#: The shortest written reason with which a reviewer who is part of the record may still decide,
#: when nobody else could (an instance with a single administrator).
SOLE_REVIEWER_REASON_MIN = 40


class ReviewRefusal(StrEnum):
    """Why a user may not decide on a consent record (the value goes into the audit log)."""

    NOT_STAFF = "not_staff"
    ATTESTER = "attester"  # recorded (created) it
    MEMBER = "member"  # belongs to the memorial, in any role


@dataclass(frozen=True)
class ConsentReviewCheck:
    """May this user approve or reject this consent record?

    `refusal` is None when they may. A reviewer who is part of the record (`ATTESTER`, `MEMBER`)
    is its `sole_reviewer` when no other active staff user could decide either: then they may go
    ahead with a written reason of at least SOLE_REVIEWER_REASON_MIN characters, kept in the
    audit log, so that an instance with a single administrator is not stuck.
    """

    refusal: ReviewRefusal | None = None
    sole_reviewer: bool = False

    @property
    def allowed(self) -> bool:
        """Free to decide with no further step."""
        return self.refusal is None

    @property
    def needs_confirmation(self) -> bool:
        return self.refusal is not None and self.sole_reviewer

    @property
    def reason(self) -> str:
        """Why the user may not simply decide, in plain words ("" when they may)."""
        from django.utils.translation import gettext

        if self.refusal == ReviewRefusal.ATTESTER:
            return gettext("You recorded this consent yourself, so you cannot review it.")
        if self.refusal == ReviewRefusal.MEMBER:
            return gettext(
                "You are a member of this memorial, so you cannot review its consent records."
            )
        if self.refusal == ReviewRefusal.NOT_STAFF:
            return gettext("Only staff can review consent records.")
        return ""


def consent_review_conflict(user: Any, record: ConsentRecord) -> ReviewRefusal | None:
    """How `user` is part of `record`: they attested (created) it, or they belong to its
    memorial in any role; None when they are neither."""
    if record.attested_by_id is not None and record.attested_by_id == user.pk:
        return ReviewRefusal.ATTESTER
    if role_of(user, record.memorial) is not None:
        return ReviewRefusal.MEMBER
    return None


def other_consent_reviewers(user: Any, record: ConsentRecord):
    """Active staff users other than `user` who are neither members of the record's memorial nor
    its attester: the people who could review it instead."""
    from django.contrib.auth import get_user_model

    others = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(pk=user.pk)
    others = others.exclude(memberships__memorial_id=record.memorial_id)
    if record.attested_by_id is not None:
        others = others.exclude(pk=record.attested_by_id)
    return others


def check_consent_review(user: Any, record: ConsentRecord) -> ConsentReviewCheck:
    """The one answer to "may this user approve or reject this record", asked by the review
    page, the API and the admin alike."""
    if not allows(user, Action.REVIEW_CONSENT):
        return ConsentReviewCheck(refusal=ReviewRefusal.NOT_STAFF)
    conflict = consent_review_conflict(user, record)
    if conflict is None:
        return ConsentReviewCheck()
    sole = not other_consent_reviewers(user, record).exists()
    return ConsentReviewCheck(refusal=conflict, sole_reviewer=sole)
