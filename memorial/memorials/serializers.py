"""JSON shapes of memorials, members and photos; what may be written is validated here."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from memorial import policy
from memorial.core.api import StrictModelSerializer, StrictSerializer
from memorial.memorials import gentle
from memorial.memorials.ingest import MAX_TAGS
from memorial.memorials.models import Membership, Memorial, Photo, PhotoKind, Role
from memorial.policy import Action


def _not_in_future(value):
    if value is not None and value > timezone.localdate():
        raise serializers.ValidationError(_("The date cannot be in the future."))
    return value


class PermissionsField(serializers.Field):
    """What the requesting user may do with the object, straight from the policy."""

    def __init__(self, actions: dict[str, Action], **kwargs) -> None:
        self.actions = actions
        kwargs.update(read_only=True, source="*")
        super().__init__(**kwargs)

    def to_representation(self, obj) -> dict[str, bool]:
        user = self.context["request"].user
        return {name: policy.allows(user, action, obj) for name, action in self.actions.items()}


MEMORIAL_ACTIONS = {
    "change": Action.CHANGE_MEMORIAL,
    "delete": Action.DELETE_MEMORIAL,
    "manage_members": Action.MANAGE_MEMBERS,
    "upload": Action.UPLOAD_PHOTOS,
    "manage_consent": Action.MANAGE_CONSENT,
    "archive": Action.ARCHIVE_MEMORIAL,
    "export": Action.EXPORT_MEMORIAL,
}
PHOTO_ACTIONS = {"edit": Action.EDIT_PHOTO, "delete": Action.DELETE_PHOTO}


@extend_schema_field(
    {
        "type": "object",
        "properties": {name: {"type": "boolean"} for name in MEMORIAL_ACTIONS},
        "required": list(MEMORIAL_ACTIONS),
    }
)
class MemorialPermissionsField(PermissionsField):
    def __init__(self, **kwargs) -> None:
        super().__init__(MEMORIAL_ACTIONS, **kwargs)


@extend_schema_field(
    {
        "type": "object",
        "properties": {name: {"type": "boolean"} for name in PHOTO_ACTIONS},
        "required": list(PHOTO_ACTIONS),
    }
)
class PhotoPermissionsField(PermissionsField):
    def __init__(self, **kwargs) -> None:
        super().__init__(PHOTO_ACTIONS, **kwargs)


class MemorialSerializer(StrictModelSerializer):
    family = serializers.CharField(source="family.name", read_only=True)
    role = serializers.SerializerMethodField(help_text="The requesting user's role, if a member.")
    cover_photo = serializers.UUIDField(
        source="cover_photo_id", required=False, allow_null=True, label=_("cover photo")
    )
    cover_url = serializers.SerializerMethodField()
    page = serializers.CharField(source="get_absolute_url", read_only=True)
    can = MemorialPermissionsField()
    is_archived = serializers.BooleanField(read_only=True)
    counts = serializers.SerializerMethodField(
        help_text="Real photos, AI-made photos and (AI-made) videos, counted apart."
    )

    class Meta:
        model = Memorial
        fields = [
            "id",
            "name",
            "birth_date",
            "death_date",
            "biography",
            "cover_photo",
            "cover_url",
            "family",
            "role",
            "page",
            "can",
            "mark_position",
            "ai_generation_enabled",
            "ai_restoration_enabled",
            "ai_speaking_enabled",
            "ai_films_enabled",
            "counts",
            "is_archived",
            "archived_at",
            "delete_after",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "is_archived",
            "archived_at",
            "delete_after",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "birth_date": {"validators": [_not_in_future]},
            "death_date": {"validators": [_not_in_future]},
        }

    def get_role(self, memorial: Memorial) -> str | None:
        return policy.role_of(self.context["request"].user, memorial)

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "photos": {"type": "integer"},
                "ai_photos": {"type": "integer"},
                "videos": {"type": "integer"},
                "label": {"type": "string"},
            },
        }
    )
    def get_counts(self, memorial: Memorial) -> dict:
        counted = gentle.counts(memorial)
        return {
            "photos": counted.real,
            "ai_photos": counted.ai_photos,
            "videos": counted.videos,
            "label": counted.label,
        }

    def get_cover_url(self, memorial: Memorial) -> str | None:
        if memorial.cover_photo_id is None:
            return None
        return Photo(pk=memorial.cover_photo_id).media_url("thumb")

    def validate_name(self, value: str) -> str:
        return value.strip()

    def validate_cover_photo(self, value):
        if value is None:
            return None
        memorial = self.instance
        photo = (
            None
            if memorial is None
            else Photo.objects.filter(pk=value, memorial=memorial, hidden=False).first()
        )
        if photo is None:
            raise serializers.ValidationError(_("That photo is not in this memorial."))
        if problem := gentle.cover_problem(photo):
            raise serializers.ValidationError(problem)
        return value

    def validate(self, attrs: dict) -> dict:
        birth = attrs.get("birth_date", getattr(self.instance, "birth_date", None))
        death = attrs.get("death_date", getattr(self.instance, "death_date", None))
        if birth and death and death < birth:
            raise serializers.ValidationError(
                {"death_date": [_("The date of death is before the date of birth.")]}
            )
        return attrs


class MemberSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="user_id", read_only=True, help_text="The user's id.")
    name = serializers.CharField(source="user.get_full_name", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    joined_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "name", "email", "role", "joined_at"]
        read_only_fields = fields


class MemberRoleSerializer(StrictSerializer):
    """A partial update: without `role` nothing changes."""

    role = serializers.ChoiceField(choices=Role.choices, required=False, label=_("role"))


class PhotoUrlsSerializer(serializers.Serializer):
    thumb = serializers.CharField()
    display = serializers.CharField()
    original = serializers.CharField()
    page = serializers.CharField()


class PhotoSerializer(serializers.ModelSerializer):
    """A photo as the gallery shows it. URLs go through the private media view, never storage."""

    is_generated = serializers.BooleanField(read_only=True)
    ready_for_training = serializers.BooleanField(read_only=True)
    tags = serializers.SerializerMethodField()
    uploaded_by = serializers.SerializerMethodField()
    urls = serializers.SerializerMethodField()
    can = PhotoPermissionsField()

    class Meta:
        model = Photo
        fields = [
            "id",
            "memorial",
            "kind",
            "is_generated",
            "caption",
            "taken_on",
            "place",
            "tags",
            "width",
            "height",
            "original_filename",
            "ready_for_training",
            "created_at",
            "uploaded_by",
            "urls",
            "can",
        ]
        read_only_fields = fields

    def get_tags(self, photo: Photo) -> list[str]:
        return [tag.name for tag in photo.tags.all()]

    def get_uploaded_by(self, photo: Photo) -> str | None:
        return photo.uploaded_by.get_full_name() if photo.uploaded_by else None

    @extend_schema_field(PhotoUrlsSerializer)
    def get_urls(self, photo: Photo) -> dict[str, str]:
        return {
            "thumb": photo.media_url("thumb"),
            "display": photo.media_url("display"),
            "original": photo.media_url("original"),
            "page": photo.get_absolute_url(),
        }


class PhotoUpdateSerializer(StrictModelSerializer):
    """What a family member may change about a photo after upload."""

    tags = serializers.ListField(
        child=serializers.CharField(max_length=50, allow_blank=True),
        max_length=MAX_TAGS,
        required=False,
        label=_("tags"),
    )

    class Meta:
        model = Photo
        fields = ["caption", "taken_on", "place", "tags"]
        extra_kwargs = {"taken_on": {"validators": [_not_in_future]}}

    def validate_caption(self, value: str) -> str:
        """An AI-made photo's caption may not speak as the person (memorials/gentle.py)."""
        generated = self.instance is not None and self.instance.is_generated
        if generated and (problem := gentle.first_person_problem(value)):
            raise serializers.ValidationError(problem)
        return value


class PhotoUploadSerializer(StrictSerializer):
    """One file per request, as the upload page sends them, with its attestation."""

    file = serializers.FileField(
        label=_("photo"),
        allow_empty_file=True,  # the ingest check says "The file is empty."
        error_messages={
            "required": _("Choose a photo to upload."),
            "null": _("Choose a photo to upload."),
            "invalid": _("Send the photo as a file in a multipart form."),
            "no_name": _("The photo has no file name."),
        },
    )
    attested = serializers.BooleanField(
        required=False,
        default=False,
        label=_("I have the right to share these photos"),
    )
    caption = serializers.CharField(
        required=False, allow_blank=True, max_length=1000, label=_("caption")
    )
    taken_on = serializers.DateField(
        required=False, allow_null=True, label=_("date"), validators=[_not_in_future]
    )
    place = serializers.CharField(
        required=False, allow_blank=True, max_length=200, label=_("place")
    )
    tags = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        label=_("tags"),
        help_text="Comma-separated tag names.",
    )


class PhotoFilterSerializer(serializers.Serializer):
    tag = serializers.CharField(required=False, max_length=50, label=_("tag"))
    kind = serializers.ChoiceField(choices=PhotoKind.choices, required=False, label=_("kind"))


class ArchiveSerializer(StrictSerializer):
    archived = serializers.BooleanField(
        label=_("archived"), help_text="true archives the memorial (read-only); false reopens it."
    )


class DeletionSerializer(StrictSerializer):
    delete_after = serializers.DateTimeField(
        read_only=True, help_text="When the memorial and all its files will be deleted."
    )


class ViewingSerializer(StrictSerializer):
    """A member's gentle-viewing choice and what it hides from them."""

    choice = serializers.ChoiceField(
        choices=[c.value for c in gentle.Choice],
        allow_null=True,  # in answers, until the member chooses; refused in a request
        label=_("what you see"),
        help_text="real: only real photos; photos: and AI-made photos; all: and speaking and "
        "living portraits. Null (in answers) until the member chooses.",
    )
    hidden_photos = serializers.IntegerField(read_only=True)
    hidden_videos = serializers.IntegerField(read_only=True)

    def validate_choice(self, value: str | None) -> str:
        if value is None:
            raise serializers.ValidationError(_("Please choose one of the three."))
        return value
