"""Forms for memorials, photos and members; every rule a person can break has a message."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from memorial.accounts.models import Invitation
from memorial.memorials.ingest import clean_tags
from memorial.memorials.models import Memorial, Photo, PhotoKind, Role


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class CoverChoiceField(forms.ModelChoiceField):
    """Radio buttons whose labels the template draws as thumbnails."""

    def label_from_instance(self, obj: Photo) -> str:
        return obj.caption or obj.original_filename or str(obj.pk)


class MemorialForm(forms.ModelForm):
    class Meta:
        model = Memorial
        fields = ["name", "birth_date", "death_date", "biography", "cover_photo", "mark_position"]
        widgets = {
            "birth_date": DateInput(),
            "death_date": DateInput(),
            "biography": forms.Textarea(attrs={"rows": 6}),
            "mark_position": forms.RadioSelect(),
        }
        help_texts = {
            "name": _("The name the family used for them."),
            "biography": _("A few words about their life. You can change this at any time."),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autocomplete"] = "off"
        self.fields["mark_position"].required = False
        if self.instance.pk is None:
            self.fields["name"].widget.attrs["autofocus"] = True
            # A new memorial has no photos yet to choose a cover from.
            del self.fields["cover_photo"]
        else:
            self.fields["cover_photo"] = CoverChoiceField(
                label=_("Cover photo"),
                queryset=self.instance.photos.filter(hidden=False, kind=PhotoKind.UPLOADED),
                required=False,
                empty_label=_("No cover photo"),
                widget=forms.RadioSelect,
                blank=True,
            )

    def clean_mark_position(self) -> str:
        """Optional in a post (API clients and older forms leave it out): keep what it was."""
        return self.cleaned_data.get("mark_position") or self.instance.mark_position

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Please enter a name."))
        return name

    def clean(self) -> dict:
        data = super().clean()
        birth, death = data.get("birth_date"), data.get("death_date")
        today = timezone.localdate()
        if birth and birth > today:
            self.add_error("birth_date", _("The date of birth cannot be in the future."))
        if death and death > today:
            self.add_error("death_date", _("The date of death cannot be in the future."))
        if birth and death and death < birth:
            self.add_error("death_date", _("The date of death cannot be before the date of birth."))
        return data


class TagsField(forms.CharField):
    """Tags typed as one comma-separated line, cleaned the same way uploads clean them."""

    def to_python(self, value) -> list[str]:
        text = super().to_python(value) or ""
        return clean_tags(text.split(","))

    def prepare_value(self, value) -> str:
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value or ""


class PhotoForm(forms.Form):
    caption = forms.CharField(
        label=_("Caption"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Describe what you see, for example “laughing at a birthday party, wearing a red "
            "sweater”. A caption lets the model learn what the photo shows."
        ),
    )
    taken_on = forms.DateField(label=_("Date"), required=False, widget=DateInput())
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    tags = TagsField(
        label=_("Tags"),
        required=False,
        max_length=1100,
        help_text=_("Separate tags with commas, for example: family, summer, garden."),
    )

    def clean_taken_on(self):
        taken_on = self.cleaned_data.get("taken_on")
        if taken_on and taken_on > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return taken_on


ROLE_CHOICES = Role.choices


class InvitationForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, initial=Role.CONTRIBUTOR)
    email = forms.EmailField(
        label=_("E-mail address (optional)"),
        required=False,
        help_text=_("When given, the link is also sent to this address."),
    )

    def save(self, memorial: Memorial, user) -> Invitation:
        return Invitation.objects.create(
            memorial=memorial,
            role=self.cleaned_data["role"],
            email=self.cleaned_data["email"].lower(),
            created_by=user,
        )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)


class ViewingForm(forms.Form):
    """A member's answer to "what do you want to see of the AI-made items here?"."""

    choice = forms.ChoiceField(
        label=_("What do you want to see in this memorial?"),
        widget=forms.RadioSelect,
        choices=[
            ("real", _("Only real photos")),
            ("photos", _("Real photos and AI-made photos")),
            ("all", _("Real photos, AI-made photos, and speaking and living portraits")),
        ],
        error_messages={"required": _("Please choose one of the three.")},
    )


class AIFeaturesForm(forms.ModelForm):
    """The owner's switches: AI features the family allows for this memorial."""

    class Meta:
        model = Memorial
        fields = [
            "ai_generation_enabled",
            "ai_restoration_enabled",
            "ai_speaking_enabled",
            "ai_films_enabled",
        ]
