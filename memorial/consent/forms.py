"""The consent record form: who attests, on what basis, for which uses, with what evidence."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _

from memorial.consent.models import Basis, ConsentRecord, Scope
from memorial.memorials.imaging import ImageRejected, normalise

EVIDENCE_MAX_BYTES = 10 * 1024 * 1024


def sniff_evidence(data: bytes) -> str:
    """The evidence's content type from its first bytes (never from its name), or ""."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return ""


class ConsentForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("Uses you consent to"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Please choose at least one use.")},
    )
    evidence = forms.FileField(
        label=_("Evidence (optional)"),
        required=False,
        help_text=_(
            "A PDF or a picture of a document, up to 10 MB: for example a will or a letter."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/*"}),
    )

    class Meta:
        model = ConsentRecord
        fields = ["attester_name", "relationship", "basis", "scopes", "statement", "evidence"]
        widgets = {
            "basis": forms.RadioSelect,
            "statement": forms.Textarea(attrs={"rows": 5}),
        }
        help_texts = {
            "relationship": _("For example: daughter, husband, executor."),
            "statement": _("In your own words: what would they have wanted?"),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["basis"].choices = Basis.choices
        self.fields["attester_name"].widget.attrs["autocomplete"] = "name"

    def clean_evidence(self) -> ContentFile | None:
        """Accept a real PDF or a decodable picture; pictures are re-encoded without metadata."""
        uploaded = self.cleaned_data.get("evidence")
        if not uploaded:
            return None
        if uploaded.size > EVIDENCE_MAX_BYTES:
            raise forms.ValidationError(_("The evidence file is larger than 10 MB."))
        uploaded.seek(0)
        data = uploaded.read(EVIDENCE_MAX_BYTES + 1)
        if len(data) > EVIDENCE_MAX_BYTES:
            raise forms.ValidationError(_("The evidence file is larger than 10 MB."))
        if not data:
            raise forms.ValidationError(_("The evidence file is empty."))
        if sniff_evidence(data) == "application/pdf":
            return ContentFile(data, name="evidence")
        try:
            image = normalise(data, settings.UPLOAD_MAX_PIXELS)
        except ImageRejected:
            raise forms.ValidationError(
                _("The evidence must be a PDF or a picture (JPEG, PNG, WebP, GIF, TIFF or HEIC).")
            ) from None
        return ContentFile(image.full.data, name="evidence")
