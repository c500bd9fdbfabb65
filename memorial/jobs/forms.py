"""Forms of the job pages: train a model, generate photos."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from memorial.jobs.presets import (
    AUTO,
    BUDGETS,
    MAX_GENERATE,
    PRESETS,
    engine_values,
    prior_for,
    priors,
)


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
            "learn this person, so it needs fewer photos and less time. “None” is always possible."
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        installed = priors()
        self.fields["prior"].choices = [
            (AUTO, _("Recommended: the face prior made for this quality")),
            ("", _("None: learn from these photos alone")),
        ] + [(name, name) for name in installed]
        self.fields["prior"].initial = AUTO
        if not installed:  # nothing to choose: do not show an empty choice
            del self.fields["prior"]

    def prior_summary(self) -> list[str]:
        """For each quality, in plain words, what a training starts from by default."""
        lines = []
        for preset in PRESETS:
            resolution = engine_values(preset)["resolution"]
            label = PRESETS[preset]["label"]
            prior = prior_for(resolution)
            if prior and not prior.problem:
                lines.append(
                    _("%(quality)s: starts from the general face prior “%(name)s”.")
                    % {"quality": label, "name": prior.name}
                )
            elif prior:
                lines.append(
                    _(
                        "%(quality)s: the face prior “%(name)s” cannot be used (%(why)s), so the "
                        "model learns from these photos alone."
                    )
                    % {"quality": label, "name": prior.name, "why": prior.problem}
                )
            else:
                lines.append(
                    _(
                        "%(quality)s: no face prior is installed for %(size)d px pictures, so "
                        "the model learns from these photos alone; that needs more photos and "
                        "more time before it shows the face."
                    )
                    % {"quality": label, "size": resolution}
                )
        return lines


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
    confirm_unlearned = forms.BooleanField(
        label=_("Make photos anyway"),
        required=False,
        help_text=_(
            "This model has not learned the face yet: its photos will probably not look "
            "like the person."
        ),
    )


class ContinueForm(forms.Form):
    """ "Continue training": more time for a model, from where it stopped."""

    budget = forms.TypedChoiceField(
        label=_("More time"),
        choices=list(BUDGETS.items()),
        coerce=int,
        initial=60,
        help_text=_("Training goes on from where this model stopped, on the same photos."),
    )
