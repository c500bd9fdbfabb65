"""Forms of the job pages: train a model, generate photos."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from memorial.jobs.presets import BUDGETS, MAX_GENERATE, PRESETS, priors


class TrainForm(forms.Form):
    preset = forms.ChoiceField(
        label=_("Quality"),
        choices=[(key, value["label"]) for key, value in PRESETS.items()],
        initial="quick",
        widget=forms.RadioSelect,
        help_text=_("Larger pictures need more photos and much more time to learn."),
    )
    budget = forms.TypedChoiceField(
        label=_("Time budget"),
        choices=list(BUDGETS.items()),
        coerce=int,
        initial=60,
        help_text=_("Training stops when the time is up; the model is usable at any point."),
    )
    prior = forms.ChoiceField(
        label=_("Start from a prior"),
        required=False,
        help_text=_(
            "A general face model trained on many people's photos: the model then only has to "
            "learn this person, so it needs fewer photos and less time."
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        installed = priors()
        self.fields["prior"].choices = [("", _("None: learn from these photos alone"))] + [
            (name, name) for name in installed
        ]
        if not installed:  # nothing to choose: do not show an empty choice
            del self.fields["prior"]


class GenerateForm(forms.Form):
    caption = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=1000,
        help_text=_("For example: smiling, in a black suit, looking at the camera."),
    )
    count = forms.IntegerField(
        label=_("How many photos"), min_value=1, max_value=MAX_GENERATE, initial=4
    )
    seed = forms.IntegerField(
        label=_("Seed"),
        min_value=0,
        max_value=2**31 - 1,
        initial=0,
        help_text=_("The same seed and description give the same photo again."),
    )
