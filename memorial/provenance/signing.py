"""What the generate and restore tasks hand the engine so every AI-made file is watermarked,
marked and signed: the instance's signer material and ids, never personal data.

Imports ``gan_engine.provenance`` only (no torch): that subpackage is plain Python + Pillow.
"""

from __future__ import annotations

from gan_engine.provenance import Ingredient, Provenance, SignerMaterial
from gan_engine.provenance.mark import CORNERS
from memorial.consent.models import ConsentRecord, Scope, Status
from memorial.provenance.authority import instance

DEFAULT_MARK = "bottom-right"


def consent_id(memorial, scope: str = Scope.GENERATED_PHOTOS) -> str:
    """The id of the approved consent record that allows this generation ("" if none)."""
    for record in ConsentRecord.objects.filter(memorial=memorial, status=Status.APPROVED):
        if record.covers(scope):
            return str(record.pk)
    return ""


def mark_corner(value: object) -> str | None:
    """A job's ``mark`` parameter: a corner name; None, "" or "none" for no visible mark;
    anything else falls back to the default corner (the mark is on unless switched off)."""
    if value in (None, "", "none", False):
        return None
    return str(value) if str(value) in CORNERS else DEFAULT_MARK


def memorial_mark(memorial) -> str:
    """The corner the memorial's owner chose for the visible mark (its edit form)."""
    value = getattr(memorial, "mark_position", DEFAULT_MARK)
    return value if value in CORNERS else DEFAULT_MARK


def for_generated(
    *,
    memorial,
    model_version: str,
    item_id: str,
    mark: str | None = DEFAULT_MARK,
    scope: str = Scope.GENERATED_PHOTOS,
) -> Provenance:
    """The engine's provenance for one generated item of ``memorial``; ``scope`` names the
    consent that allows it (generated videos cite their own record)."""
    me = instance()
    return Provenance(
        instance_id=me.id,
        instance_name=me.name,
        signer=SignerMaterial(chain=me.authority.chain, key=me.authority.sign_key),
        item_id=item_id,
        model_version=model_version,
        consent_id=consent_id(memorial, scope),
        mark=mark,
    )


def for_restored(
    *, memorial, item_id: str, original: bytes, original_type: str, actions: tuple[str, ...]
) -> Provenance:
    """The engine's provenance for a restored photo: marked "AI-restored" in the memorial's
    corner, watermarked, and signed with the original (as stored: no private metadata) as the
    manifest's ingredient and the restoring steps as its actions. No consent record is cited:
    restoring a photo alone needs none."""
    me = instance()
    return Provenance(
        instance_id=me.id,
        instance_name=me.name,
        signer=SignerMaterial(chain=me.authority.chain, key=me.authority.sign_key),
        item_id=item_id,
        mark=memorial_mark(memorial),
        ingredient=Ingredient(original, original_type, "Original photo"),
        actions=actions,
    )
