"""JSON shapes of consent records; the evidence file is checked by its content."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from memorial.consent.models import Basis, ConsentRecord, Scope
from memorial.core.api import ApiError, StrictSerializerMixin
from memorial.memorials.imaging import ImageRejected, normalise


@dataclass(frozen=True)
class Evidence:
    """Checked evidence, ready to store: a PDF as sent, or a picture re-encoded without metadata."""

    data: bytes
    content_type: str


def check_evidence(uploaded) -> Evidence:
    """Accept a PDF or a picture, judged by content; raise ApiError (413/415/400) otherwise."""
    limit = settings.UPLOAD_MAX_BYTES
    uploaded.seek(0)
    data = uploaded.read(limit + 1)
    if not data:
        raise ApiError(gettext("The evidence file is empty."), 400)
    if len(data) > limit:
        raise ApiError(
            gettext("The evidence file is larger than the limit of %(limit)s.")
            % {"limit": filesizeformat(limit)},
            413,
        )
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise ApiError(gettext("This PDF is incomplete; please send it again."), 400)
        return Evidence(data, "application/pdf")
    try:
        image = normalise(data, settings.UPLOAD_MAX_PIXELS)
    except ImageRejected as exc:
        if exc.status == 415:
            raise ApiError(
                gettext(
                    "Evidence must be a PDF or a picture (JPEG, PNG, WebP, GIF, TIFF or HEIC)."
                ),
                415,
            ) from None
        raise ApiError(gettext(exc.message), exc.status) from None
    return Evidence(image.full.data, image.full.content_type)


class ConsentRecordSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Scope.choices),
        allow_empty=False,
        max_length=len(Scope.choices),
        label=_("scope"),
        help_text="What the consent covers: " + ", ".join(Scope.values) + ".",
    )
    basis = serializers.ChoiceField(choices=Basis.choices, label=_("basis"))
    evidence = serializers.FileField(
        required=False,
        write_only=True,
        allow_empty_file=True,
        label=_("evidence"),
        help_text="Optional: a PDF or a picture of a document.",
    )
    has_evidence = serializers.SerializerMethodField()
    evidence_url = serializers.SerializerMethodField()
    attested_by = serializers.SerializerMethodField()
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    scopes_display = serializers.ListField(
        source="get_scopes_display", child=serializers.CharField(), read_only=True
    )

    class Meta:
        model = ConsentRecord
        fields = [
            "id",
            "memorial",
            "attester_name",
            "relationship",
            "basis",
            "scopes",
            "scopes_display",
            "statement",
            "evidence",
            "has_evidence",
            "evidence_url",
            "status",
            "status_display",
            "attested_by",
            "created_at",
            "status_changed_at",
            "review_reason",
        ]
        read_only_fields = [
            "id",
            "memorial",
            "status",
            "created_at",
            "status_changed_at",
            "review_reason",
        ]

    def get_has_evidence(self, record: ConsentRecord) -> bool:
        return bool(record.evidence)

    def get_evidence_url(self, record: ConsentRecord) -> str | None:
        if not record.evidence:
            return None
        return reverse("consent:evidence", kwargs={"record_id": record.pk})

    def get_attested_by(self, record: ConsentRecord) -> str | None:
        return record.attested_by.get_full_name() if record.attested_by else None

    def validate_scopes(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))  # keep the order, drop repeats

    def validate_attester_name(self, value: str) -> str:
        return value.strip()
