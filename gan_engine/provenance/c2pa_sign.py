"""C2PA manifests: sign generated images with the instance's authority, and read them back.

The engine receives the signer material (PEM chain and key) as parameters; where it lives is the
web app's business. No timestamp server (the instance may be offline), so the manifest is valid
within the signing certificate's validity period.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from typing import Any, Literal

#: IPTC digital source type for media made by a model trained on sampled content.
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
GENERATION_LABEL = "org.memorial.generation"
#: How the manifest's "opened" action points at the original among the ingredients.
ORIGINAL_LABEL = "original"

Verdict = Literal["trusted", "valid", "invalid", "none"]


@dataclass(frozen=True)
class SignerMaterial:
    """What signing needs: the PEM chain (signing certificate, then CA) and the PEM private key."""

    chain: bytes
    key: bytes


#: IPTC digital source type for a picture changed (not made) by a trained model.
COMPOSITE_WITH_TRAINED = (
    "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
)


@dataclass(frozen=True)
class Ingredient:
    """The file an AI-changed picture was made from (a restored photo's original)."""

    data: bytes
    mime: str
    title: str


@dataclass(frozen=True)
class Provenance:
    """Everything the engine needs to mark and sign one generated file. No personal data.

    With ``ingredient`` the file is an edit of that file (a restoration), and ``actions`` names
    what was done to it (C2PA action names); without, it was created by a model."""

    instance_id: str
    instance_name: str
    signer: SignerMaterial | None = None
    item_id: str = ""
    model_version: str = ""
    consent_id: str = ""
    mark: str | None = "bottom-right"
    extra: dict[str, str] = field(default_factory=dict)
    ingredient: Ingredient | None = None
    actions: tuple[str, ...] = ()


def manifest_definition(provenance: Provenance, title: str, mime: str) -> dict[str, Any]:
    """The manifest: c2pa.actions (created, trainedAlgorithmicMedia), author, model and consent ids."""
    from gan_engine import __version__

    generation = {
        "instance": provenance.instance_id,
        "item": provenance.item_id,
        "model_version": provenance.model_version,
        "consent": provenance.consent_id,
        **provenance.extra,
    }
    agent = {"name": "memorial gan_engine", "version": __version__}
    if provenance.ingredient is None:
        actions = [
            {
                "action": "c2pa.created",
                "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                "softwareAgent": agent,
            }
        ]
    else:
        opened = {
            "action": "c2pa.opened",
            "softwareAgent": agent,
            "parameters": {"ingredientIds": [ORIGINAL_LABEL]},
        }
        actions = [opened] + [
            {"action": name, "digitalSourceType": COMPOSITE_WITH_TRAINED, "softwareAgent": agent}
            for name in provenance.actions or ("c2pa.edited",)
        ]
    return {
        "claim_generator_info": [{"name": "memorial gan_engine", "version": __version__}],
        "title": title,
        "format": mime,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": actions}},
            {
                "label": "stds.schema-org.CreativeWork",
                "data": {
                    "@context": "https://schema.org",
                    "@type": "CreativeWork",
                    "author": [{"@type": "Organization", "name": provenance.instance_name}],
                },
            },
            {"label": GENERATION_LABEL, "data": {k: v for k, v in generation.items() if v}},
        ],
    }


def sign(data: bytes, mime: str, provenance: Provenance, title: str) -> bytes:
    """``data`` (an image or video of type ``mime``) with a signed C2PA manifest embedded."""
    import c2pa

    if provenance.signer is None:
        raise ValueError("signing needs signer material")
    info = c2pa.C2paSignerInfo(
        c2pa.C2paSigningAlg.ES256, provenance.signer.chain, provenance.signer.key, None
    )
    signer = c2pa.Signer.from_info(info)
    try:
        builder = c2pa.Builder(json.dumps(manifest_definition(provenance, title, mime)))
        if provenance.ingredient is not None:
            ingredient = provenance.ingredient
            builder.add_ingredient(
                {"title": ingredient.title, "relationship": "parentOf", "label": ORIGINAL_LABEL},
                ingredient.mime,
                io.BytesIO(ingredient.data),
            )
        out = io.BytesIO()
        builder.sign(signer, mime, io.BytesIO(data), out)
    finally:
        signer.close()
    return out.getvalue()


def sign_file(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    mime: str,
    provenance: Provenance,
    title: str,
) -> None:
    """Sign the file ``source`` into ``target`` through file streams (a video need not fit in
    memory twice); same manifest as :func:`sign`."""
    import c2pa

    if provenance.signer is None:
        raise ValueError("signing needs signer material")
    info = c2pa.C2paSignerInfo(
        c2pa.C2paSigningAlg.ES256, provenance.signer.chain, provenance.signer.key, None
    )
    signer = c2pa.Signer.from_info(info)
    try:
        builder = c2pa.Builder(json.dumps(manifest_definition(provenance, title, mime)))
        with open(source, "rb") as reading, open(target, "w+b") as writing:
            builder.sign(signer, mime, reading, writing)
    finally:
        signer.close()


@dataclass(frozen=True)
class Verification:
    """The verdict on one file: trusted (this instance signed it), valid (unknown signer),
    invalid (tampered or broken), none (no manifest); with the active manifest when readable."""

    verdict: Verdict
    manifest: dict[str, Any] | None = None
    failures: tuple[str, ...] = ()

    @property
    def generation(self) -> dict[str, Any]:
        """Our generation assertion (model version, consent, item), or {}."""
        for assertion in (self.manifest or {}).get("assertions", []):
            if assertion.get("label") == GENERATION_LABEL:
                return dict(assertion.get("data") or {})
        return {}


def verify(data: bytes, mime: str | None, trust_anchors: bytes | None) -> Verification:
    """Read and validate the C2PA manifest in ``data`` against ``trust_anchors`` (PEM)."""
    import c2pa

    context = None
    if trust_anchors:
        settings = c2pa.Settings.from_dict(
            {"verify": {"verify_trust": True}, "trust": {"trust_anchors": trust_anchors.decode()}}
        )
        context = c2pa.Context(settings=settings)
    try:
        reader = c2pa.Reader(mime or None, io.BytesIO(data), context=context)
    except c2pa.C2paError as error:
        # No manifest, or a file type that cannot hold one: either way nothing was claimed.
        kind = f"{type(error).__name__} {error}"
        if any(word in kind for word in ("ManifestNotFound", "NotSupported", "not found")):
            return Verification("none")
        return Verification("invalid", failures=(str(error)[:200],))
    with reader:
        store = json.loads(reader.json())
        state = (reader.get_validation_state() or "").lower()
    active = store.get("manifests", {}).get(store.get("active_manifest", ""), None)
    failures = tuple(
        item.get("code", "")
        for item in (store.get("validation_results") or {})
        .get("activeManifest", {})
        .get("failure", [])
    )
    if state == "trusted":
        return Verification("trusted", active, failures)
    if state == "valid":
        return Verification("valid", active, failures)
    return Verification("invalid", active, failures)
