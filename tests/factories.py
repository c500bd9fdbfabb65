"""Records the tests need often, made through the same code paths as the product."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from memorial.memorials.ingest import ingest_photo
from memorial.memorials.models import Photo, PhotoKind
from tests import images


def add_photo(
    family, seed: int, caption: str = "", *, user=None, kind=PhotoKind.UPLOADED, **fields
) -> Photo:
    """A small photo in the family's memorial, uploaded by `user` (the owner by default)."""
    return ingest_photo(
        memorial=family.memorial,
        uploaded=SimpleUploadedFile(
            f"photo-{seed}.jpg", images.jpeg(seed=seed, width=96, height=72)
        ),
        user=user or family.owner,
        attested=True,
        caption=caption,
        kind=kind,
        **fields,
    )
