"""Forms of the public takedown request, its appeal, and the staff decisions."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from memorial.moderation.models import Reason, TakedownRequest


class TakedownForm(forms.ModelForm):
    # A field people never see; bots that fill every field give themselves away.
    website = forms.CharField(
        required=False,
        label=_("Leave this field empty"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    good_faith = forms.BooleanField(
        label=_(
            "I believe in good faith that this item should be removed for the reason given, "
            "and what I have written is true."
        ),
        error_messages={"required": _("Please confirm the statement of good faith.")},
    )

    class Meta:
        model = TakedownRequest
        fields = [
            "contact_name",
            "contact_email",
            "relationship",
            "url",
            "reason",
            "explanation",
            "good_faith",
        ]
        widgets = {
            "reason": forms.RadioSelect,
            "explanation": forms.Textarea(attrs={"rows": 6}),
            "url": forms.TextInput(attrs={"inputmode": "url", "autocomplete": "off"}),
        }
        help_texts = {
            "relationship": _(
                "For example: daughter of the person, the person in the photo, the photographer."
            ),
            "url": _("Copy the address from your browser's address bar."),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = Reason.choices
        self.fields["contact_email"].widget.attrs["autocomplete"] = "email"
        self.fields["contact_name"].widget.attrs["autocomplete"] = "name"

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website", "").strip())


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reasons for your decision"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        error_messages={"required": _("Please write the reasons for your decision.")},
    )


class AppealForm(forms.Form):
    text = forms.CharField(
        label=_("Why should the decision be looked at again?"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5000,
        error_messages={
            "required": _("Please explain why the decision should be looked at again.")
        },
    )
