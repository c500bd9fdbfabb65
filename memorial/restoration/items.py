"""Takedown and withdrawal reach restored photos: each is derived from its original, so removing
the original removes them too (registered with the moderation registry)."""

from __future__ import annotations

from memorial.memorials.models import Photo, PhotoKind
from memorial.moderation import items as registry


def restorations_of_photo(item: registry.Item) -> list[registry.Item]:
    ids = Photo.objects.filter(
        restored_from_id__in=registry.uuids([item.id]), kind=PhotoKind.RESTORED
    ).values_list("pk", flat=True)
    return registry.HANDLERS["photo"].find([str(i) for i in ids])


registry.add_deriver("photo", restorations_of_photo)
