"""Admin for memorials and photos. Files are linked through the permission-checked
media view, never a storage URL, so the admin cannot leak private media."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from memorial.memorials.models import Membership, Memorial, Photo


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Memorial)
class MemorialAdmin(admin.ModelAdmin):
    list_display = ["name", "family", "birth_date", "death_date", "created_at"]
    search_fields = ["name"]
    raw_id_fields = ["family", "cover_photo", "created_by"]
    inlines = [MembershipInline]


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ["preview", "memorial", "kind", "caption", "hidden", "created_at"]
    list_filter = ["kind", "hidden"]
    search_fields = ["caption", "original_filename", "sha256"]
    exclude = ["image", "display", "thumbnail"]
    readonly_fields = [
        "preview",
        "memorial",
        "kind",
        "uploaded_by",
        "content_type",
        "width",
        "height",
        "file_size",
        "sha256",
        "original_filename",
        "attested_rights",
    ]

    @admin.display(description=_("Preview"))
    def preview(self, photo: Photo) -> str:
        return format_html('<img src="{}" alt="" height="80">', photo.media_url("thumb"))
