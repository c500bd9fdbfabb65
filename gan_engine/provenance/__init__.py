"""Provenance of generated files: invisible watermark, visible mark, C2PA signature.

Applied by :func:`gan_engine.outputs.write_image` when it is given ``provenance=``, in this order:
watermark → visible mark (optional) → C2PA signature (last, so that it covers the final bytes).
"""

from gan_engine.provenance.c2pa_sign import (
    Ingredient,
    Provenance,
    SignerMaterial,
    Verification,
    verify,
)

__all__ = ["Ingredient", "Provenance", "SignerMaterial", "Verification", "verify"]
