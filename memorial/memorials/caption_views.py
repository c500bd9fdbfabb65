"""The caption editor: every family photo on one page, each with a large picture and a roomy
caption box, so thirty photos can be described in a few minutes with the keyboard alone.

With script, each caption is saved as it is typed (the photo API's PATCH, which is safe to
send twice); Enter saves and moves to the next photo, Shift+Enter to the one before. Without
script the page is one form: "Save all captions" posts every box. Several selected photos can
be given a shared caption, tags, date or place in one step.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from memorial.memorials.forms import DateInput, TagsField
from memorial.memorials.models import Memorial, Photo, PhotoKind, Tag
from memorial.policy import Action, require

#: More than a family usually uploads at once; the page stays one list.
EDITOR_LIMIT = 500


class SharedDetailsForm(forms.Form):
    """What several selected photos may be given at once; an empty field changes nothing."""

    caption = forms.CharField(
        label=gettext_lazy("Shared caption"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    tags = TagsField(
        label=gettext_lazy("Add tags"),
        required=False,
        max_length=1100,
        help_text=gettext_lazy("Separate tags with commas. Tags a photo already has are kept."),
    )
    taken_on = forms.DateField(label=gettext_lazy("Date"), required=False, widget=DateInput())
    place = forms.CharField(label=gettext_lazy("Place"), max_length=200, required=False)

    def clean_taken_on(self):
        taken_on = self.cleaned_data.get("taken_on")
        if taken_on and taken_on > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return taken_on

    def changes(self) -> dict[str, Any]:
        """Only the fields the person filled in."""
        data = self.cleaned_data
        fields = {
            "caption": data["caption"].strip(),
            "taken_on": data["taken_on"],
            "place": data["place"].strip(),
        }
        return {name: value for name, value in fields.items() if value}


def editable_photos(memorial: Memorial) -> QuerySet[Photo]:
    """The family's own photos, in the order they were added (AI-made ones need no caption)."""
    return (
        memorial.photos.filter(hidden=False, kind=PhotoKind.UPLOADED)
        .prefetch_related("tags")
        .order_by("created_at", "pk")
    )


def _selected(request: HttpRequest, memorial: Memorial) -> list[Photo]:
    ids = [value for value in request.POST.getlist("photo") if _is_uuid(value)]
    return list(editable_photos(memorial).filter(pk__in=ids))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def apply_shared(photos: list[Photo], changes: dict[str, Any], tags: list[str]) -> None:
    """Give every photo the same details; repeating it changes nothing more (safe to retry)."""
    if not photos:
        return
    memorial_id = photos[0].memorial_id
    with transaction.atomic():
        for name in tags:
            Tag.objects.get_or_create(memorial_id=memorial_id, name=name)
        shared_tags = list(Tag.objects.filter(memorial_id=memorial_id, name__in=tags))
        for photo in photos:
            for field, value in changes.items():
                setattr(photo, field, value)
            if changes:
                photo.save(update_fields=[*changes, "updated_at"])
            photo.tags.add(*shared_tags)


def save_typed_captions(request: HttpRequest, photos: QuerySet[Photo]) -> int:
    """The no-script path: every caption box posted as caption-<id>. Returns how many changed."""
    changed = 0
    with transaction.atomic():
        for photo in photos:
            key = f"caption-{photo.pk}"
            if key not in request.POST:
                continue
            caption = request.POST[key].strip()[:1000]
            if caption != photo.caption:
                photo.caption = caption
                photo.save(update_fields=["caption", "updated_at"])
                changed += 1
    return changed


def _post(request: HttpRequest, memorial: Memorial, shared: SharedDetailsForm) -> bool:
    """Handle one post; False when the shared details need correcting (the page shows why)."""
    if request.POST.get("action") == "shared":
        photos = _selected(request, memorial)
        if not photos:
            shared.add_error(None, _("Please select at least one photo first."))
            return False
        if not shared.is_valid():
            return False
        changes, tags = shared.changes(), shared.cleaned_data["tags"]
        if not changes and not tags:
            shared.add_error(None, _("Please fill in a caption, tags, a date or a place to share."))
            return False
        apply_shared(photos, changes, tags)
        messages.success(
            request,
            ngettext(
                "The details have been saved for %(count)d photo.",
                "The details have been saved for %(count)d photos.",
                len(photos),
            )
            % {"count": len(photos)},
        )
        return True
    changed = save_typed_captions(request, editable_photos(memorial))
    messages.success(
        request,
        ngettext(
            "%(count)d caption has been saved.", "%(count)d captions have been saved.", changed
        )
        % {"count": changed},
    )
    return True


@login_required
@require_http_methods(["GET", "POST"])
def caption_editor(request: HttpRequest, memorial_id) -> HttpResponse:
    memorial = get_object_or_404(Memorial, pk=memorial_id)
    require(request.user, Action.EDIT_PHOTO, memorial)
    shared = SharedDetailsForm(request.POST if request.POST.get("action") == "shared" else None)
    status = 200
    if request.method == "POST":
        if _post(request, memorial, shared):
            return redirect(request.get_full_path())
        status = 400
    every = editable_photos(memorial)
    needs_only = request.GET.get("needs") == "1"
    photos = every.filter(caption__regex=r"^\s*$") if needs_only else every
    selected = set(request.POST.getlist("photo")) if status == 400 else set()
    context = {
        "memorial": memorial,
        "photos": list(photos[:EDITOR_LIMIT]),
        "selected": selected,
        "needs_only": needs_only,
        "total": every.count(),
        "needs_count": every.filter(caption__regex=r"^\s*$").count(),
        "shared": shared,
    }
    return render(request, "memorials/captions.html", context, status=status)
