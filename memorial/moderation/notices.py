"""Who is told about takedowns, and that they are told even when the mail server was away.

* A new request: the requester gets an acknowledgement with the reference number, and staff who
  handle takedowns get a notice. Each is marked on the request when it went out
  (``acknowledged_at``, ``staff_notified_at``); what a mail server refused is sent again by the
  periodic sweep (:func:`send_due_notices`, memorial/moderation/tasks.py).
* Items hidden and removed: each memorial's owners learn what went and why, in plain words.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from memorial.memorials.models import Membership, Memorial, Photo, Role
from memorial.moderation import items as item_registry
from memorial.moderation import notify
from memorial.moderation.models import TakedownRequest
from memorial.policy import Action, allows

#: Unsent e-mails of a new request are tried again after this long (so the sweep never races
#: the request's own attempt), for this long at most.
RETRY_AFTER = timedelta(minutes=2)
GIVE_UP_AFTER = timedelta(days=7)
#: How the owners' e-mail counts what went, by kind (anything else counts as "other items").
OWNER_NOTICE_KINDS = ("photo", "video", "model", "job", "recording")
OWNER_NOTICE_NAMES = 20  # photo captions listed at most; the rest are counted
CAPTION_WORDS = 8  # a caption is shortened to its first words in the list


def staff_emails() -> list[str]:
    """Who handles takedowns (memorial.policy) and has an e-mail address."""
    staff = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(email="")
    return [user.email for user in staff.order_by("pk") if allows(user, Action.HANDLE_TAKEDOWNS)]


def _mark_sent(takedown: TakedownRequest, field: str) -> None:
    TakedownRequest.objects.filter(pk=takedown.pk, **{f"{field}__isnull": True}).update(
        **{field: timezone.now()}
    )


def send_notices(takedown_id) -> None:
    """A new request's e-mails, each once: the requester's acknowledgement, then the staff
    notice. Called after the request is committed, so it stands whatever the mail server does."""
    takedown = TakedownRequest.objects.filter(pk=takedown_id).first()
    if takedown is None:
        return
    if takedown.acknowledged_at is None and notify.send(
        "takedown_received", [takedown.contact_email], {"takedown": takedown}, takedown.language
    ):
        _mark_sent(takedown, "acknowledged_at")
    if takedown.staff_notified_at is None:
        recipients = staff_emails()
        # With nobody to tell, trying again later would not change that: marked all the same.
        if not recipients or notify.send(
            "takedown_staff_notice", recipients, _staff_context(takedown)
        ):
            _mark_sent(takedown, "staff_notified_at")


def _staff_context(takedown: TakedownRequest) -> dict:
    return {
        "takedown": takedown,
        "detail_url": settings.SITE_URL
        + reverse("moderation:takedown_detail", kwargs={"takedown_id": takedown.pk}),
        "open_count": TakedownRequest.objects.open().count(),
    }


def send_due_notices(older_than: timedelta = RETRY_AFTER) -> int:
    """Send the e-mails of recent requests that did not go out when they arrived; returns how
    many requests were tried."""
    now = timezone.now()
    due = TakedownRequest.objects.filter(
        Q(acknowledged_at__isnull=True) | Q(staff_notified_at__isnull=True),
        created_at__lte=now - older_than,
        created_at__gte=now - GIVE_UP_AFTER,
    ).values_list("pk", flat=True)
    tried = 0
    for takedown_id in list(due):
        send_notices(takedown_id)
        tried += 1
    return tried


def owner_emails(memorial_id) -> list[str]:
    """The addresses of a memorial's owners, the first owner first."""
    return list(
        Membership.objects.filter(memorial_id=memorial_id, role=Role.OWNER)
        .order_by("pk")
        .values_list("user__email", flat=True)
    )


def photo_captions(items: list[item_registry.Item]) -> dict[str, str]:
    """The chosen photos' captions, shortened, by photo id: read before the photos are deleted,
    so the owners' e-mail can say which photos went in the family's own words."""
    ids = [item.id for item in items if item.kind == "photo"]
    captions = Photo.objects.filter(pk__in=ids).exclude(caption="").values_list("pk", "caption")
    return {str(pk): _shorten(caption) for pk, caption in captions}


def _shorten(caption: str) -> str:
    words = caption.split()
    return " ".join(words[:CAPTION_WORDS]) + ("…" if len(words) > CAPTION_WORDS else "")


def tell_owners(
    items: list[item_registry.Item], reason: str, captions: dict[str, str] | None = None
) -> None:
    """Each memorial's owners learn what of theirs was hidden and removed, and why: how many of
    each kind and the photos' captions (``captions``, from :func:`photo_captions`), never
    identifiers or file names."""
    for memorial_id, group in _by_memorial(items).items():
        memorial = Memorial.objects.filter(pk=memorial_id).first()
        if memorial is not None:
            notify.send(
                "takedown_owner_notice",
                owner_emails(memorial.pk),
                _owner_context(memorial, group, reason, captions or {}),
            )


def _owner_context(
    memorial: Memorial, items: list[item_registry.Item], reason: str, captions: dict[str, str]
) -> dict:
    kinds = item_registry.by_kind(items)
    counts = {kind: len(kinds.get(kind, [])) for kind in OWNER_NOTICE_KINDS}
    names = [captions[item.id] for item in kinds.get("photo", []) if item.id in captions]
    return {
        "memorial": memorial,
        "counts": counts,
        "other_count": len(items) - sum(counts.values()),
        "photo_names": names[:OWNER_NOTICE_NAMES],
        "more_photo_names": max(len(names) - OWNER_NOTICE_NAMES, 0),
        "reason": reason,
    }


def _by_memorial(items: list[item_registry.Item]) -> dict[str, list[item_registry.Item]]:
    grouped: dict[str, list[item_registry.Item]] = {}
    for item in items:
        if item.memorial_id:
            grouped.setdefault(item.memorial_id, []).append(item)
    return grouped
