"""Forms of the job pages: train a model, generate photos."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from memorial.jobs.presets import BUDGETS, MAX_GENERATE, PRESETS


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
