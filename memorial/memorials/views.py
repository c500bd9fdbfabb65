"""Pages for memorials, galleries, photos, uploads and members.

Every view asks memorial.policy: `require` answers 404 to people who may not
see the memorial and 403 to members who lack the right. Anonymous visitors are
sent to the sign-in page first.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from memorial.accounts.invitations import send_invitation
from memorial.accounts.models import Invitation
from memorial.consent.gate import may_use
from memorial.consent.models import Scope
from memorial.memorials import gentle, services
from memorial.memorials.forms import (
    InvitationForm,
    MemorialForm,
    PhotoForm,
    RoleForm,
    ViewingForm,
)
from memorial.memorials.ingest import UploadRejected, ingest_photo
from memorial.memorials.models import Membership, Memorial, Photo, PhotoKind, Role, Tag
from memorial.policy import Action, allows, require

log = logging.getLogger(__name__)
UNCAPTIONED = Q(caption__regex=r"^\s*$")


def _posted_id(request: HttpRequest, name: str) -> int:
    """An integer id from the form, or 0 (matches nothing, so the lookup answers 404)."""
    value = request.POST.get(name, "")
    return int(value) if value.isascii() and value.isdigit() else 0


def _memorial(request: HttpRequest, memorial_id: Any, action: Action) -> Memorial:
    memorial = get_object_or_404(Memorial.objects.select_related("cover_photo"), pk=memorial_id)
    require(request.user, action, memorial)
    return memorial


def _visible_photos(memorial: Memorial) -> QuerySet[Photo]:
    return memorial.photos.filter(hidden=False)


def _seen_photos(memorial: Memorial, viewing: gentle.Viewing) -> QuerySet[Photo]:
    """The photos this viewer sees: AI-made ones only if they chose to (gentle viewing)."""
    photos = _visible_photos(memorial)
    return photos if viewing.photos else photos.filter(kind=PhotoKind.UPLOADED)


def needs_caption(memorial: Memorial) -> QuerySet[Photo]:
    """Uploaded photos the generator cannot learn from yet, because nobody described them."""
    return _visible_photos(memorial).filter(UNCAPTIONED, kind=PhotoKind.UPLOADED)


def consent_panel(memorial: Memorial) -> list[dict[str, Any]]:
    """One line per scope: may the memorial be used for it, and if not, why not."""
    return [
        {"scope": scope, "label": scope.label, "decision": may_use(memorial, scope)}
        for scope in Scope
    ]


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    memberships = list(
        Membership.objects.filter(user=request.user)
        .select_related("memorial", "memorial__cover_photo")
        .order_by("memorial__name")
    )
    ids = [m.memorial_id for m in memberships]
    counts = dict(
        Photo.objects.filter(memorial_id__in=ids, hidden=False)
        .values_list("memorial_id")
        .annotate(n=Count("id"))
        .values_list("memorial_id", "n")
    )
    # Without a chosen cover, the newest family photo stands in (never a generated one).
    newest = (
        Photo.objects.filter(memorial=OuterRef("pk"), hidden=False, kind=PhotoKind.UPLOADED)
        .order_by("-created_at")
        .values("pk")[:1]
    )
    fallback = dict(
        Memorial.objects.filter(pk__in=ids)
        .annotate(newest=Subquery(newest))
        .values_list("pk", "newest")
    )
    cards = []
    for m in memberships:
        cover = m.memorial.cover_photo
        cards.append(
            {
                "memorial": m.memorial,
                "role": m.role,
                "photo_count": counts.get(m.memorial_id, 0),
                "counts": gentle.counts(m.memorial),  # "30 photos · 4 AI-made"
                "cover_id": cover.pk if cover and not cover.hidden else fallback.get(m.memorial_id),
            }
        )
    return render(request, "memorials/dashboard.html", {"cards": cards})


@login_required
@require_http_methods(["GET", "POST"])
def memorial_create(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.CREATE_MEMORIAL)
    form = MemorialForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "cover_photo"}
        memorial = services.create_memorial(request.user, **fields)
        messages.success(
            request,
            _("The memorial for %(name)s has been created. You can add photos now.")
            % {"name": memorial.name},
        )
        return redirect(memorial)
    status = 400 if form.errors else 200
    return render(request, "memorials/memorial_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def memorial_edit(request: HttpRequest, memorial_id) -> HttpResponse:
    memorial = _memorial(request, memorial_id, Action.CHANGE_MEMORIAL)
    form = MemorialForm(request.POST or None, instance=memorial)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your changes have been saved."))
        return redirect(memorial)
    status = 400 if form.errors else 200
    return render(
        request, "memorials/memorial_form.html", {"form": form, "memorial": memorial}, status=status
    )


@login_required
def gallery(request: HttpRequest, memorial_id) -> HttpResponse:
    """The memorial's home: its photos, filtered and paged, with the consent status beside."""
    memorial = _memorial(request, memorial_id, Action.VIEW_PHOTOS)
    item_counts = gentle.counts(memorial)
    viewing = gentle.viewing(request.user, memorial, item_counts)
    photos = _seen_photos(memorial, viewing).select_related("uploaded_by").prefetch_related("tags")
    tag = request.GET.get("tag", "").strip()
    kind = request.GET.get("kind", "")
    uncaptioned = request.GET.get("uncaptioned") == "1"
    if tag:
        photos = photos.filter(tags__name=tag.lower())
    if kind in PhotoKind.values:
        photos = photos.filter(kind=kind)
    else:
        kind = ""
    if uncaptioned:
        photos = photos.filter(UNCAPTIONED, kind=PhotoKind.UPLOADED)
    page = Paginator(photos.distinct(), settings.PHOTOS_PER_PAGE).get_page(request.GET.get("page"))
    tags = (
        Tag.objects.filter(memorial=memorial, photos__hidden=False)
        .annotate(n=Count("photos"))
        .filter(n__gt=0)
        .order_by("name")
    )
    context = {
        "memorial": memorial,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "photos": page.object_list,
        "tags": tags,
        "tag": tag,
        "kind": kind,
        "kinds": PhotoKind.choices,
        "uncaptioned": uncaptioned,
        "filtered": bool(tag or kind or uncaptioned),
        "total": _visible_photos(memorial).count(),
        "counts": item_counts,
        "viewing": viewing,
        "viewing_form": ViewingForm() if viewing.asks else None,
        "makers": gentle.makers(memorial) if viewing.asks else None,
        "consent": consent_panel(memorial),
        "can_edit": allows(request.user, Action.EDIT_PHOTO, memorial),
    }
    # Photos are selected in the gallery to restore them (memorial.restoration posts).
    context["can_select"] = allows(
        request.user, Action.RESTORE_PHOTO, memorial
    ) and gentle.feature_enabled(memorial, gentle.AIFeature.RESTORATION)
    # A nudge for those who can describe photos; a viewer cannot act on it.
    context["needs_caption_count"] = needs_caption(memorial).count() if context["can_edit"] else 0
    return render(request, "memorials/gallery.html", context)


def _photo(memorial: Memorial, photo_id) -> Photo:
    return get_object_or_404(
        Photo.objects.select_related("uploaded_by", "memorial"),
        pk=photo_id,
        memorial=memorial,
        hidden=False,
    )


def _apply_photo_form(photo: Photo, data: dict[str, Any]) -> None:
    with transaction.atomic():
        photo.caption = data["caption"].strip()
        photo.taken_on = data["taken_on"]
        photo.place = data["place"].strip()
        photo.save(update_fields=["caption", "taken_on", "place", "updated_at"])
        for name in data["tags"]:
            Tag.objects.get_or_create(memorial=photo.memorial, name=name)
        photo.tags.set(Tag.objects.filter(memorial=photo.memorial, name__in=data["tags"]))


@login_required
@require_http_methods(["GET", "POST"])
def photo_detail(request: HttpRequest, memorial_id, photo_id) -> HttpResponse:
    memorial = _memorial(request, memorial_id, Action.VIEW_PHOTOS)
    photo = _photo(memorial, photo_id)
    viewing = gentle.viewing(request.user, memorial)
    if photo.is_ai_made and not viewing.photos:
        raise PermissionDenied(gentle.seeing_refusal("photo"))
    initial = {
        "caption": photo.caption,
        "taken_on": photo.taken_on,
        "place": photo.place,
        "tags": [t.name for t in photo.tags.all()],
    }
    form = PhotoForm(initial=initial)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "edit")
        if action == "cover":
            require(request.user, Action.CHANGE_MEMORIAL, memorial)
            if problem := gentle.cover_problem(photo):
                messages.error(request, problem)
            else:
                memorial.cover_photo = photo
                memorial.save(update_fields=["cover_photo", "updated_at"])
                messages.success(request, _("This photo is now the cover photo."))
            return redirect(photo)
        require(request.user, Action.EDIT_PHOTO, photo)
        form = PhotoForm(request.POST, initial=initial)
        if (
            form.is_valid()
            and photo.is_ai_made
            and (problem := gentle.first_person_problem(form.cleaned_data["caption"]))
        ):
            form.add_error("caption", problem)
        if form.is_valid():
            _apply_photo_form(photo, form.cleaned_data)
            messages.success(request, _("The photo's details have been saved."))
            return redirect(photo)
        status = 400
    visible = _seen_photos(memorial, viewing)
    newer = visible.filter(created_at__gt=photo.created_at).order_by("created_at").first()
    older = visible.filter(created_at__lt=photo.created_at).order_by("-created_at").first()
    context = {
        "memorial": memorial,
        "photo": photo,
        "form": form,
        "newer": newer,
        "older": older,
        "is_cover": memorial.cover_photo_id == photo.pk,
    }
    return render(request, "memorials/photo_detail.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def photo_delete(request: HttpRequest, memorial_id, photo_id) -> HttpResponse:
    memorial = _memorial(request, memorial_id, Action.VIEW_PHOTOS)
    photo = _photo(memorial, photo_id)
    require(request.user, Action.DELETE_PHOTO, photo)
    if request.method == "POST":
        photo.delete()
        messages.success(request, _("The photo has been deleted."))
        return redirect(memorial)
    return render(
        request, "memorials/photo_confirm_delete.html", {"memorial": memorial, "photo": photo}
    )


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest, memorial_id) -> HttpResponse:
    """The upload page. Its script sends files to the JSON API; without script the
    form posts here and each file is taken in the same way, one result per file."""
    memorial = _memorial(request, memorial_id, Action.UPLOAD_PHOTOS)
    context: dict[str, Any] = {
        "memorial": memorial,
        "results": [],
        "error": "",
        "max_bytes": settings.UPLOAD_MAX_BYTES,
        "max_mb": round(settings.UPLOAD_MAX_BYTES / (1024 * 1024)),
    }
    status = 200
    if request.method == "POST":
        files = request.FILES.getlist("file")
        attested = request.POST.get("attested") in {"on", "true", "1"}
        if not attested:
            context["error"] = _("Please confirm that you have the right to share these photos.")
            status = 400
        elif not files:
            context["error"] = _("Please choose at least one photo.")
            status = 400
        else:
            for uploaded in files:
                try:
                    photo = ingest_photo(
                        memorial=memorial,
                        uploaded=uploaded,
                        user=request.user,
                        attested=True,
                        tags=request.POST.get("tags", "").split(","),
                    )
                except UploadRejected as rejected:
                    context["results"].append({"name": uploaded.name, "error": rejected.message})
                else:
                    context["results"].append({"name": uploaded.name, "photo": photo})
            if not any("photo" in r for r in context["results"]):
                status = 400
    return render(request, "memorials/upload.html", context, status=status)


def invitation_url(request: HttpRequest, invitation: Invitation) -> str:
    return request.build_absolute_uri(invitation.get_absolute_url())


def _send_invitation(request: HttpRequest, invitation: Invitation) -> bool:
    return send_invitation(invitation, request.user, invitation_url(request, invitation))


def _members_post(request: HttpRequest, memorial: Memorial) -> HttpResponse | None:
    """Owners' actions on the members page. Returns a redirect, or None to re-render."""
    require(request.user, Action.MANAGE_MEMBERS, memorial)
    action = request.POST.get("action", "")
    if action == "invite":
        form = InvitationForm(request.POST)
        if not form.is_valid():
            return None
        invitation = form.save(memorial, request.user)
        if invitation.email:
            if _send_invitation(request, invitation):
                messages.success(
                    request,
                    _("The invitation has been sent to %(email)s. You can also copy the link.")
                    % {"email": invitation.email},
                )
            else:
                messages.warning(
                    request,
                    _("The e-mail could not be sent. Please copy the link and send it yourself."),
                )
        else:
            messages.success(request, _("Invitation created. Copy the link and send it."))
        return redirect(f"{request.path}?new={invitation.pk}#invitation-{invitation.pk}")
    if action == "revoke":
        invitation = get_object_or_404(
            Invitation, pk=_posted_id(request, "invitation"), memorial=memorial
        )
        if invitation.accepted_at is None and invitation.revoked_at is None:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
        messages.success(request, _("The invitation link no longer works."))
        return redirect(request.path)
    if action in {"role", "remove"}:
        membership = get_object_or_404(
            Membership.objects.select_related("user"),
            pk=_posted_id(request, "membership"),
            memorial=memorial,
        )
        try:
            if action == "role":
                form = RoleForm(request.POST)
                if not form.is_valid():
                    messages.error(request, _("Please choose a valid role."))
                    return redirect(request.path)
                services.change_role(membership, form.cleaned_data["role"])
                messages.success(
                    request,
                    _("%(name)s is now %(role)s.")
                    % {"name": membership.user, "role": membership.get_role_display().lower()},
                )
            else:
                services.remove_member(membership)
                messages.success(
                    request, _("%(name)s is no longer a member.") % {"name": membership.user}
                )
                if membership.user_id == request.user.pk:
                    return redirect("memorials:dashboard")
        except services.LastOwnerError as error:
            messages.error(request, str(error))
        return redirect(request.path)
    messages.error(request, _("That action is not known."))
    return redirect(request.path)


@login_required
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, memorial_id) -> HttpResponse:
    memorial = _memorial(request, memorial_id, Action.VIEW_MEMBERS)
    invite_form = InvitationForm()
    status = 200
    if request.method == "POST":
        response = _members_post(request, memorial)
        if response is not None:
            return response
        invite_form = InvitationForm(request.POST)
        status = 400
    can_manage = allows(request.user, Action.MANAGE_MEMBERS, memorial)
    memberships = (
        memorial.memberships.select_related("user")
        .order_by("user__display_name", "user__email")
        .all()
    )
    invitations = []
    if can_manage:
        invitations = [
            {"invitation": inv, "url": invitation_url(request, inv)}
            for inv in memorial.invitations.filter(
                accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
            )
        ]
    context = {
        "memorial": memorial,
        "memberships": memberships,
        "invitations": invitations,
        "invite_form": invite_form,
        "roles": Role.choices,
        "can_manage": can_manage,
        "new_invitation": request.GET.get("new", ""),
    }
    return render(request, "memorials/members.html", context, status=status)
