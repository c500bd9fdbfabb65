"""What a takedown can remove, and how: one handler per kind of item.

A handler lists an item's derived items (a later job ledger registers "models
trained on this photo" and "outputs of this model"), hides items at once and
deletes them for good. Other apps plug in with `register(handler)`, or listen to
`item_actioned`, sent after every deletion with the items that went.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from django.db import transaction
from django.dispatch import Signal
from django.urls import Resolver404, resolve

from memorial.memorials import events
from memorial.memorials.models import Memorial, Photo

# Sent after items were deleted: sender=the handler's class, items=[Item], takedown=request or None.
item_actioned = Signal()


@dataclass(frozen=True)
class Item:
    kind: str  # "photo"; later "model", "video", …
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


HANDLERS: dict[str, ItemHandler] = {}


def register(handler: ItemHandler) -> ItemHandler:
    HANDLERS[handler.kind] = handler
    return handler


def _uuids(ids: Iterable[str]) -> list[uuid.UUID]:
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
        photos = Photo.objects.filter(pk__in=_uuids(ids)).order_by("created_at", "pk")
        return [self._item(p) for p in photos]

    @staticmethod
    def _item(photo: Photo) -> Item:
        return Item("photo", str(photo.pk), str(photo.memorial_id), photo.original_filename)

    def derived(self, item: Item) -> list[Item]:
        return []  # models trained on the photo, and their outputs: registered by the job ledger

    def hide(self, items: list[Item]) -> None:
        Photo.objects.filter(pk__in=_uuids(i.id for i in items)).update(hidden=True)

    def delete(self, items: list[Item]) -> None:
        for photo in Photo.objects.filter(pk__in=_uuids(i.id for i in items)):
            memorial_id, photo_id = photo.memorial_id, str(photo.pk)
            photo.delete()  # files go after commit (memorials.signals), audit via audit.signals
            transaction.on_commit(
                lambda m=memorial_id, p=photo_id: events.publish(m, "photo.deleted", photo_id=p)
            )


register(PhotoHandler())


def photos_of(memorial_id) -> list[Item]:
    """Everything a takedown of a whole memorial removes for now: its photos."""
    handler = HANDLERS["photo"]
    ids = Photo.objects.filter(memorial_id=memorial_id).values_list("pk", flat=True)
    return handler.find([str(i) for i in ids])


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
        handler = HANDLERS.get(item.kind)
        if handler is not None:
            queue.extend(handler.derived(item))
    return list(seen.values())


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
