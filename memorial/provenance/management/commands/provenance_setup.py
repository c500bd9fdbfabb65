"""Create the instance's provenance authority (root CA + signing certificate) if it is missing."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from memorial.provenance.authority import ensure_instance, folder


class Command(BaseCommand):
    help = "Create this instance's C2PA signing authority in the data folder (once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--name", default="", help="Instance name shown in manifests.")

    def handle(self, *args, name: str = "", **options) -> None:
        instance, created = ensure_instance(name or None)
        verb = "Created" if created else "Kept existing"
        self.stdout.write(f"{verb} provenance authority {instance.id} in {folder()}")
