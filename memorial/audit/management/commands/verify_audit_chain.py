"""Check the audit log's hash chain; exit 1 and name the first broken entry if any."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from memorial.audit.chain import verify
from memorial.audit.models import AuditEntry


class Command(BaseCommand):
    help = "Verify that no audit entry was changed, removed or reordered."

    def handle(self, *args, **options) -> None:
        count, broken = verify(AuditEntry.objects.order_by("id").iterator(chunk_size=1000))
        if broken is not None:
            raise CommandError(
                f"audit chain broken at entry {broken.entry_id}: {broken.problem} "
                f"({count} entries before it are intact)",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {count} entries"))
