"""The API's request to restore a photo: the same choices, limits and defaults as the page."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from memorial.core.api import StrictSerializerMixin
from memorial.restoration.forms import ENLARGE_CHOICES


class RestoreRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    repair = serializers.BooleanField(
        required=False, default=True, label=gettext_lazy("Repair scratches and dust")
    )
    colourise = serializers.BooleanField(
        required=False,
        default=True,
        label=gettext_lazy("Colour it if it is black-and-white or sepia"),
        help_text="Colours the photo if it is black-and-white or sepia (a photo already in colour "
        "is left as it is and the job says so), guided by `hints` and, under approved consent "
        "for training, by the family's colour photos of the person.",
    )
    hints = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        default=list,
        label=gettext_lazy("Colours you know"),
        help_text='Colour points for colourising: up to 20 of {"x": 120, "y": 80, "colour": '
        '"#a0522d"}, x and y in the photo\'s own pixels.',
    )
    enlarge = serializers.ChoiceField(
        choices=[value for value, _label in ENLARGE_CHOICES],
        required=False,
        default=2,
        label=gettext_lazy("Size"),
        help_text="1 keeps the size, 2 or 4 enlarges; refused when the result would be larger "
        "than the upload limit.",
    )
    fidelity = serializers.IntegerField(
        required=False,
        default=30,
        min_value=0,
        max_value=100,
        label=gettext_lazy("Closeness to the original"),
        help_text="0 lets the enlarger sharpen freely; 100 keeps the original's look.",
    )

    def validate(self, attrs):
        if not (attrs["repair"] or attrs["colourise"] or int(attrs["enlarge"]) > 1):
            raise serializers.ValidationError(
                _("Choose at least one thing to do: repair, colour or enlarge.")
            )
        return attrs
