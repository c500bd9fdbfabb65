"""The instance's identity and C2PA signing authority, kept in the data folder.

Created once (management command ``provenance_setup``, or lazily by the first task that signs)
under ``DATA_DIR/provenance/``: ``instance.json`` (a random instance id and the name shown in
manifests), the root CA certificate and key, the signing certificate and key (keys mode 0600).
Creation is all-or-nothing: everything is written into a temporary folder which is then renamed
into place, so two workers starting together end up with one authority.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from gan_engine.provenance.authority import Authority, create_authority

FILES = {
    "ca_cert": "ca.pem",
    "ca_key": "ca.key",
    "sign_cert": "signer.pem",
    "sign_key": "signer.key",
}


@dataclass(frozen=True)
class Instance:
    """Who signs: the instance id (in watermarks and manifests), its name, its authority."""

    id: str
    name: str
    authority: Authority


def folder() -> Path:
    return Path(settings.DATA_DIR) / "provenance"


def _load(path: Path) -> Instance:
    meta = json.loads((path / "instance.json").read_text())
    material = {field: (path / name).read_bytes() for field, name in FILES.items()}
    return Instance(meta["id"], meta["name"], Authority(**material))


def ensure_instance(name: str | None = None) -> tuple[Instance, bool]:
    """The instance's authority, created on first use; returns it and whether it was created."""
    target = folder()
    if (target / "instance.json").is_file():
        return _load(target), False
    target.parent.mkdir(parents=True, exist_ok=True)
    name = name or getattr(settings, "PROVENANCE_INSTANCE_NAME", "") or "Memorial"
    authority = create_authority(name)
    scratch = Path(tempfile.mkdtemp(prefix=".provenance-", dir=target.parent))
    try:
        for field, file_name in FILES.items():
            path = scratch / file_name
            path.write_bytes(getattr(authority, field))
            if file_name.endswith(".key"):
                os.chmod(path, 0o600)
        (scratch / "instance.json").write_text(
            json.dumps({"id": str(uuid.uuid4()), "name": name}, indent=2)
        )
        os.rename(scratch, target)
    except OSError:
        shutil.rmtree(scratch, ignore_errors=True)
        if not (target / "instance.json").is_file():
            raise
        return _load(target), False  # another process created it first
    return _load(target), True


def instance() -> Instance:
    return ensure_instance()[0]
