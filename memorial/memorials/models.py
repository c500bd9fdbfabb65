"""Memorials, their members, and the photos (uploaded or generated) of the person."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    CONTRIBUTOR = "contributor", _("Contributor")
    VIEWER = "viewer", _("Viewer")


class MarkPosition(models.TextChoices):
    """Where the visible "AI-generated" mark goes on generated files (gan_engine CORNERS)."""

    BOTTOM_RIGHT = "bottom-right", _("Bottom right")
    BOTTOM_LEFT = "bottom-left", _("Bottom left")
    TOP_RIGHT = "top-right", _("Top right")
    TOP_LEFT = "top-left", _("Top left")


class Memorial(models.Model):
    """One person who has died. Private: only members (and staff, for review) see it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    family = models.ForeignKey(
        "accounts.Family", on_delete=models.PROTECT, related_name="memorials"
    )
    name = models.CharField(_("name"), max_length=200)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    death_date = models.DateField(_("date of death"), null=True, blank=True)
    biography = models.TextField(_("short biography"), blank=True, max_length=5000)
    cover_photo = models.ForeignKey(
        "Photo",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cover photo"),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="memorials"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    mark_position = models.CharField(
        _("position of the “AI-generated” mark"),
        max_length=16,
        choices=MarkPosition.choices,
        default=MarkPosition.BOTTOM_RIGHT,
        help_text=_("The corner of generated pictures and films where the mark is drawn."),
    )
    # Retiring: archived (read-only) and/or deletion requested, undone until `delete_after`.
    archived_at = models.DateTimeField(_("archived on"), null=True, blank=True)
    deletion_requested_at = models.DateTimeField(null=True, blank=True)
    deletion_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    delete_after = models.DateTimeField(_("to be deleted on"), null=True, blank=True)
    # What the family allows at all, independently of consent (memorials/gentle.py AIFeature).
    ai_generation_enabled = models.BooleanField(
        _("AI-made photos"),
        default=True,
        help_text=_("Train models and make new photos of the person from the family's photos."),
    )
    ai_restoration_enabled = models.BooleanField(
        _("Photo restoration"),
        default=True,
        help_text=_("Repair and enlarge old or damaged photos with AI."),
    )
    ai_speaking_enabled = models.BooleanField(
        _("Speaking portraits"),
        default=True,
        help_text=_("Make a photo speak with a recording of the person's voice."),
    )
    ai_films_enabled = models.BooleanField(
        _("Films"),
        default=True,
        help_text=_("Make short films from a trained model."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("memorial")
        verbose_name_plural = _("memorials")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("memorials:gallery", kwargs={"memorial_id": self.pk})

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def deletion_pending(self) -> bool:
        return self.delete_after is not None

    @property
    def is_read_only(self) -> bool:
        """Archived or waiting for deletion: it can be looked at and exported, not changed."""
        return self.is_archived or self.deletion_pending


class Membership(models.Model):
    memorial = models.ForeignKey(Memorial, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    # Gentle viewing: what AI-made items this member wants to see here. Until they choose
    # (viewing_chosen_at is None) they see none.
    viewing_chosen_at = models.DateTimeField(null=True, blank=True)
    show_ai_photos = models.BooleanField(_("show AI-made photos"), default=False)
    show_ai_videos = models.BooleanField(_("show speaking and living portraits"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["memorial", "user"], name="one_membership_per_user")
        ]
        verbose_name = _("member")
        verbose_name_plural = _("members")

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"


class Tag(models.Model):
    memorial = models.ForeignKey(Memorial, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(_("tag"), max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["memorial", "name"], name="unique_tag_per_memorial")
        ]

    def __str__(self) -> str:
        return self.name


class PhotoKind(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    GENERATED = "generated", _("AI-generated")
    RESTORED = "restored", _("AI-restored")


#: Kinds made or changed by AI: labelled, and shown only to members who chose to see AI-made items.
AI_MADE_KINDS = (PhotoKind.GENERATED, PhotoKind.RESTORED)


def photo_path(photo: Photo, filename: str) -> str:
    """Storage keys carry no user-supplied text, only identifiers."""
    return f"memorials/{photo.memorial_id}/photos/{photo.pk}/{filename}"


class Photo(models.Model):
    """A picture of the person: uploaded by family, or generated (and labelled as such)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    memorial = models.ForeignKey(Memorial, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(
        _("kind"), max_length=16, choices=PhotoKind.choices, default=PhotoKind.UPLOADED
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    image = models.FileField(upload_to=photo_path, max_length=255)
    display = models.FileField(upload_to=photo_path, max_length=255)
    thumbnail = models.FileField(upload_to=photo_path, max_length=255)
    content_type = models.CharField(max_length=32)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    file_size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    original_filename = models.CharField(_("file name"), max_length=255, blank=True)
    caption = models.TextField(_("caption"), blank=True, max_length=1000)
    taken_on = models.DateField(_("date"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="photos")
    attested_rights = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)
    #: A restored photo's original (never changed by the restoration); deleting it deletes this.
    restored_from = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="restorations",
        verbose_name=_("original photo"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["memorial", "sha256"], name="no_duplicate_photo")
        ]
        indexes = [models.Index(fields=["memorial", "kind", "-created_at"])]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return self.original_filename or str(self.pk)

    @property
    def is_generated(self) -> bool:
        return self.kind == PhotoKind.GENERATED

    @property
    def is_restored(self) -> bool:
        return self.kind == PhotoKind.RESTORED

    @property
    def is_ai_made(self) -> bool:
        """Generated or restored: labelled, and behind the member's gentle-viewing choice."""
        return self.kind in AI_MADE_KINDS

    @property
    def ready_for_training(self) -> bool:
        """Every family photo can teach the face. An uncaptioned one trains with the empty
        caption, which the engine already feeds a fifth of the time (caption dropout); a
        caption adds what the photo shows, which a description can ask for later (weakly after a
        short training: BENCHMARKS.md, "What captions add")."""
        return self.kind == PhotoKind.UPLOADED and not self.hidden

    def get_absolute_url(self) -> str:
        return reverse(
            "memorials:photo", kwargs={"memorial_id": self.memorial_id, "photo_id": self.pk}
        )

    def media_url(self, variant: str = "display") -> str:
        return reverse("memorials:media", kwargs={"photo_id": self.pk, "variant": variant})
