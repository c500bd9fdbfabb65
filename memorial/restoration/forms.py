"""What a person chooses when restoring a photo."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from memorial.restoration import hints

ENLARGE_CHOICES = [
    (1, _("Keep its size")),
    (2, _("Twice as large")),
    (4, _("Four times as large")),
]


class RestoreForm(forms.Form):
    repair = forms.BooleanField(
        label=_("Repair scratches and dust"),
        required=False,
        initial=True,
        help_text=_(
            "Film grain and noise are smoothed too, and a faded print's dark tones brought back, "
            "only where the photo needs it."
        ),
    )
    # On by default: the worker looks at the photo itself and leaves one already in colour as it
    # is (and says so), so a family's black-and-white scan comes back in colour without their
    # having to know this box is there.
    colourise = forms.BooleanField(
        label=_("Colour it if it is black-and-white or sepia"),
        required=False,
        initial=True,
        help_text=_(
            "A photo already in colour is left as it is. A colour model guesses the colours; the "
            "points you colour below correct it. When the family has approved consent for "
            "training, it first learns the person's colours from the family's colour photos of "
            "them."
        ),
    )
    enlarge = forms.TypedChoiceField(
        label=_("Size"),
        choices=ENLARGE_CHOICES,
        coerce=int,
        initial=2,
        help_text=_("Faces are enlarged by a model of faces so they keep the person's likeness."),
    )
    fidelity = forms.IntegerField(
        label=_("Closeness to the original"),
        min_value=0,
        max_value=100,
        initial=30,
        help_text=_(
            "0 lets the enlarger sharpen freely; 100 keeps the original's look. The family's "
            "own features matter more than sharpness."
        ),
        widget=forms.NumberInput(attrs={"step": 10}),
    )

    def clean(self):
        data = super().clean()
        if not (data.get("repair") or data.get("colourise") or (data.get("enlarge") or 1) > 1):
            raise forms.ValidationError(
                _("Choose at least one thing to do: repair, colour or enlarge.")
            )
        return data


class RestorePhotoForm(RestoreForm):
    """One photo's form: the same choices, and colour points placed on that photo."""

    hints = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, photo, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.photo = photo

    def clean_hints(self) -> list[list]:
        return hints.parse(self.cleaned_data.get("hints"), self.photo.width, self.photo.height)
