"""What a takedown can remove, and how: one handler per kind of item.

A handler lists an item's derived items, hides items at once, deletes them for
good and, for a consent withdrawal, lists everything generated of a memorial
(`generated_of`). Other apps plug in with `register(handler)`, add derived items
to another app's kind with `add_deriver(kind, fn)` (the job ledger adds "models
trained on this photo"; videos add "films made from this photo"), or listen to
`item_actioned`, sent after every deletion with the items that went.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from django.db import transaction
from django.dispatch import Signal
from django.urls import Resolver404, resolve
from django.utils.translation import gettext_lazy as _

from memorial.memorials import events
from memorial.memorials.models import AI_MADE_KINDS, Memorial, Photo, PhotoKind

# Sent after items were deleted: sender=the handler's class, items=[Item], takedown=request or None.
item_actioned = Signal()


@dataclass(frozen=True)
class Item:
    kind: str  # "photo", "model", "job", "video", …
    id: str
    memorial_id: str
    label: str = ""  # for the staff preview only; never stored in the audit log

    def ref(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.id, "memorial": self.memorial_id}


class ItemHandler(Protocol):
    kind: str

    def find(self, ids: list[str]) -> list[Item]: ...

    def derived(self, item: Item) -> list[Item]: ...

    def hide(self, items: list[Item]) -> None: ...

    def delete(self, items: list[Item]) -> None: ...

    def generated_of(self, memorial_id) -> list[Item]:
        """Everything of this kind generated or derived for a memorial (withdrawal removes it)."""
        ...


HANDLERS: dict[str, ItemHandler] = {}
#: Extra derived items of a kind, contributed by other apps: kind -> [fn(item) -> items].
DERIVERS: dict[str, list[Callable[[Item], list[Item]]]] = {}
#: What each kind is called on the staff preview and the withdrawal pages.
TITLES: dict[str, object] = {
    "photo": _("Photo"),
    "model": _("Trained model"),
    "job": _("Job and its files"),
    "video": _("Video"),
    "recording": _("Voice recording"),
}


def register(handler: ItemHandler) -> ItemHandler:
    HANDLERS[handler.kind] = handler
    return handler


def add_deriver(kind: str, fn: Callable[[Item], list[Item]]) -> None:
    """Let another app add derived items to `kind` (e.g. models trained on a photo)."""
    derivers = DERIVERS.setdefault(kind, [])
    if fn not in derivers:
        derivers.append(fn)


def title(kind: str) -> str:
    return str(TITLES.get(kind, kind))


def derived_of(item: Item) -> list[Item]:
    """The handler's own derived items and those other apps registered for its kind."""
    handler = HANDLERS.get(item.kind)
    found = list(handler.derived(item)) if handler is not None else []
    for fn in DERIVERS.get(item.kind, []):
        found.extend(fn(item))
    return found


def uuids(ids: Iterable[str]) -> list[uuid.UUID]:
    """The valid UUIDs among ids posted or pasted by people (others are skipped, not a 500)."""
    out = []
    for value in ids:
        try:
            out.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return out


class PhotoHandler:
    kind = "photo"

    def find(self, ids: list[str]) -> list[Item]:
        photos = Photo.objects.filter(pk__in=uuids(ids)).order_by("created_at", "pk")
        return [self._item(p) for p in photos]

    @staticmethod
    def _item(photo: Photo) -> Item:
        return Item("photo", str(photo.pk), str(photo.memorial_id), photo.original_filename)

    def derived(self, item: Item) -> list[Item]:
        return []  # models trained on the photo, and their outputs: added with add_deriver

    def stored_under(self, ref: dict) -> list[str]:
        return [f"memorials/{ref['memorial']}/photos/{ref['id']}"]

    def generated_of(self, memorial_id) -> list[Item]:
        photos = Photo.objects.filter(memorial_id=memorial_id, kind__in=AI_MADE_KINDS)
        return [self._item(p) for p in photos.order_by("created_at", "pk")]

    def hide(self, items: list[Item]) -> None:
        Photo.objects.filter(pk__in=uuids(i.id for i in items)).update(hidden=True)

    def delete(self, items: list[Item]) -> None:
        for photo in Photo.objects.filter(pk__in=uuids(i.id for i in items)):
            memorial_id, photo_id = photo.memorial_id, str(photo.pk)
            # Files go after commit (memorials.signals), audit via audit.signals; the
            # GeneratedImage link of a generated photo goes with it (cascade).
            photo.delete()
            transaction.on_commit(
                lambda m=memorial_id, p=photo_id: events.publish(m, "photo.deleted", photo_id=p)
            )


register(PhotoHandler())


def photos_of(memorial_id) -> list[Item]:
    """Everything a takedown of a whole memorial removes: its photos (and, via impact, all
    that was derived from them)."""
    handler = HANDLERS["photo"]
    ids = Photo.objects.filter(memorial_id=memorial_id).values_list("pk", flat=True)
    return handler.find([str(i) for i in ids])


def uploads_of(memorial_id) -> list[Item]:
    """The family's own uploaded photos (a withdrawal removes them only when asked)."""
    ids = Photo.objects.filter(memorial_id=memorial_id, kind=PhotoKind.UPLOADED).values_list(
        "pk", flat=True
    )
    return HANDLERS["photo"].find([str(i) for i in ids])


def generated_of(memorial_id) -> list[Item]:
    """Everything generated or derived for a memorial, from every handler, with what was
    derived from it; uploaded photos are not part of it."""
    found: list[Item] = []
    for handler in list(HANDLERS.values()):
        method = getattr(handler, "generated_of", None)
        if method is not None:
            found.extend(method(memorial_id))
    return [i for i in impact(found) if not _is_upload(i)]


def kept_under_consent(memorial_id, scopes: Iterable[str]) -> list[Item]:
    """Uploads a memorial may keep only while consent covers a use (voice recordings: "voice"),
    with what was made from them: withdrawing that use deletes them. A handler opts in with a
    ``consent_scope`` and an ``uploads_of(memorial_id)``."""
    found: list[Item] = []
    for handler in list(HANDLERS.values()):
        if getattr(handler, "consent_scope", None) in set(scopes):
            found.extend(handler.uploads_of(memorial_id))
    return impact(found)


def _is_upload(item: Item) -> bool:
    if item.kind != "photo":
        return False
    return Photo.objects.filter(pk=item.id, kind=PhotoKind.UPLOADED).exists()


#: The order deletions run in: outputs first, then what made them.
DELETE_ORDER = ("photo", "video", "model", "job")


def in_delete_order(items: Iterable[Item]) -> list[tuple[str, list[Item]]]:
    grouped = by_kind(items)
    rank = {kind: n for n, kind in enumerate(DELETE_ORDER)}
    return sorted(grouped.items(), key=lambda pair: rank.get(pair[0], len(rank) // 2))


def impact(items: Iterable[Item]) -> list[Item]:
    """The items and everything derived from them, each once, in a stable order."""
    seen: dict[tuple[str, str], Item] = {}
    queue = list(items)
    while queue:
        item = queue.pop(0)
        key = (item.kind, item.id)
        if key in seen:
            continue
        seen[key] = item
        queue.extend(derived_of(item))
    return list(seen.values())


def stored_under(ref: dict) -> list[str]:
    """Storage folders that hold only this (possibly already deleted) item's files, from its
    identifiers; a handler without `stored_under` keeps its files in its records' fields."""
    handler = HANDLERS.get(ref.get("kind", ""))
    method = getattr(handler, "stored_under", None)
    return list(method(ref)) if method is not None else []


def by_kind(items: Iterable[Item]) -> dict[str, list[Item]]:
    grouped: dict[str, list[Item]] = {}
    for item in items:
        grouped.setdefault(item.kind, []).append(item)
    return grouped


def resolve_items(kind_ids: Iterable[str]) -> list[Item]:
    """Items still present from "kind:id" strings, as posted by the impact preview."""
    wanted: dict[str, list[str]] = {}
    for value in kind_ids:
        kind, _sep, ident = str(value).partition(":")
        if kind in HANDLERS and ident:
            wanted.setdefault(kind, []).append(ident)
    found: list[Item] = []
    for kind, ids in wanted.items():
        found.extend(HANDLERS[kind].find(ids))
    return found


@dataclass(frozen=True)
class Located:
    memorial: Memorial | None
    photo: Photo | None


def locate(url: str) -> Located:
    """The memorial and photo a pasted address points at (page, media or API address)."""
    path = urlsplit(url.strip()).path or "/"
    if not path.startswith("/"):
        path = "/" + path
    try:
        match = resolve(path)
    except Resolver404:
        return Located(None, None)
    photo = None
    if "photo_id" in match.kwargs:
        photo = Photo.objects.select_related("memorial").filter(pk=match.kwargs["photo_id"]).first()
    memorial = photo.memorial if photo else None
    if memorial is None and "memorial_id" in match.kwargs:
        memorial = Memorial.objects.filter(pk=match.kwargs["memorial_id"]).first()
    return Located(memorial, photo)
