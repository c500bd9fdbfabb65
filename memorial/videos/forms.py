"""Forms of the video pages: "Make it speak" and "Bring it to life" (a photo's page) and "Make a
film" (a model's)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from memorial.videos import checks, services

ACCEPT = ",".join([*checks.AUDIO_TYPES, "audio/*"])
EMPTY = {"empty": _("The recording is empty.")}


class SpeakForm(forms.Form):
    audio = forms.FileField(
        label=_("Upload a recording of the voice"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        error_messages=EMPTY,
    )
    recording = forms.ChoiceField(label=_("Or use a stored recording"), required=False)
    face = forms.TypedChoiceField(
        label=_("Which face"), coerce=int, initial=0, widget=forms.RadioSelect, required=False
    )
    seed = forms.IntegerField(
        label=_("Seed"),
        min_value=0,
        max_value=2**31 - 1,
        initial=0,
        help_text=_("Blinks and head movement differ from seed to seed."),
    )

    def __init__(self, *args, recordings=(), faces=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["audio"].help_text = _(
            "WAV, MP3, M4A/AAC, OGG/Opus or FLAC, at most %(seconds)s seconds."
        ) % {"seconds": f"{checks.max_seconds():g}"}
        self.fields["recording"].choices = [("", _("— none —"))] + [
            (str(r.pk), f"{r.original_filename or r.pk} ({r.duration:.1f} s)") for r in recordings
        ]
        where = {"left": _("on the left"), "centre": _("in the middle"), "right": _("on the right")}
        self.fields["face"].choices = [
            (
                f.index,
                _("Face %(n)d, %(where)s, %(size)d px")
                % {"n": f.index + 1, "where": where[f.where], "size": f.size},
            )
            for f in faces
        ]
        if len(faces) < 2:
            self.fields["face"].widget = forms.HiddenInput()
            self.fields["face"].choices = [(0, "0")]

    def clean(self):
        data = super().clean()
        if not data.get("audio") and not data.get("recording"):
            raise forms.ValidationError(
                _("Choose a voice recording, or one that is already stored.")
            )
        data["face"] = data.get("face") or 0
        return data


class LiveForm(forms.Form):
    """A living portrait: no recording, only which face and the seed (the blinks and glance)."""

    live = forms.BooleanField(widget=forms.HiddenInput, initial=True)
    face = forms.TypedChoiceField(
        label=_("Which face"), coerce=int, initial=0, widget=forms.RadioSelect, required=False
    )
    seed = forms.IntegerField(
        label=_("Seed"),
        min_value=0,
        max_value=2**31 - 1,
        initial=0,
        help_text=_("The blinks, the glance and the head's movement differ from seed to seed."),
    )

    def __init__(self, *args, faces=(), **kwargs) -> None:
        super().__init__(*args, prefix="live", **kwargs)
        self.fields["face"].choices = SpeakForm(faces=faces).fields["face"].choices
        if len(faces) < 2:
            self.fields["face"].widget = forms.HiddenInput()

    def clean(self):
        data = super().clean()
        data["face"] = data.get("face") or 0
        return data


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class FilmForm(forms.Form):
    seeds = forms.CharField(
        label=_("Seeds"),
        required=False,
        help_text=_(
            "Whole numbers separated by commas, e.g. 1, 2, 3: one keyframe each (with captions: "
            "the seed of each caption's keyframe)."
        ),
    )
    captions = forms.CharField(
        label=_("Or one caption per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example: smiling / in a garden / as a young man."),
    )
    seconds = forms.IntegerField(
        label=_("Length in seconds"), min_value=1, max_value=services.MAX_FILM_SECONDS, initial=8
    )
    fps = forms.TypedChoiceField(
        label=_("Frames per second"),
        choices=[(n, str(n)) for n in services.FPS_CHOICES],
        coerce=int,
        initial=24,
    )
    audio = forms.FileField(
        label=_("Sound track (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        error_messages=EMPTY,
        help_text=_("A voice or music recording; it needs consent for the voice."),
    )
    recording = forms.ChoiceField(label=_("Or a stored recording"), required=False)
    # Radio buttons the film page draws as thumbnails (videos/_photo_picker.html).
    start_photo = forms.ChoiceField(
        label=_("Fade in from a photo (optional)"), required=False, widget=forms.RadioSelect
    )
    end_photo = forms.ChoiceField(
        label=_("Fade out to a photo (optional)"), required=False, widget=forms.RadioSelect
    )
    confirm_unlearned = forms.BooleanField(
        label=_("Make the film anyway"),
        required=False,
        help_text=_(
            "This model has not learned the face yet: its pictures will probably not look like "
            "the person."
        ),
    )

    def __init__(self, *args, recordings=(), photos=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        none = [("", _("— none —"))]
        self.fields["recording"].choices = none + [
            (str(r.pk), f"{r.original_filename or r.pk} ({r.duration:.1f} s)") for r in recordings
        ]
        photo_choices = none + [
            (str(p.pk), (p.caption or p.original_filename or str(p.pk))[:80]) for p in photos
        ]
        self.fields["start_photo"].choices = photo_choices
        self.fields["end_photo"].choices = photo_choices

    def clean_seeds(self) -> list[int]:
        text = self.cleaned_data.get("seeds", "")
        parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
        try:
            return [int(p) for p in parts]
        except ValueError:
            raise forms.ValidationError(_("Seeds are whole numbers separated by commas.")) from None

    def clean_captions(self) -> list[str]:
        return _lines(self.cleaned_data.get("captions", ""))
