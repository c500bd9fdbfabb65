"""JSON endpoints for memorials, their members and their photos. Access: memorial.policy only."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from memorial import policy
from memorial.core.api import (
    BODY,
    ApiError,
    JSONParser,
    MemorialAPIView,
    check_id,
    errors,
    memorial_for,
    not_found_error,
    permit,
)
from memorial.memorials import events, gentle, retire
from memorial.memorials.ingest import UploadRejected, clean_tags, ingest_photo
from memorial.memorials.models import Membership, Photo, PhotoKind, Tag
from memorial.memorials.serializers import (
    DeletionSerializer,
    MemberRoleSerializer,
    MemberSerializer,
    MemorialSerializer,
    PhotoFilterSerializer,
    PhotoSerializer,
    PhotoUpdateSerializer,
    PhotoUploadSerializer,
    ViewingSerializer,
)
from memorial.memorials.services import LastOwnerError, change_role, create_memorial, remove_member
from memorial.policy import Action

log = logging.getLogger(__name__)
READ = (401, 404)


class MemorialPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200
    invalid_page_message = _("There is no page {page_number}.")


class PhotoPagination(MemorialPagination):
    @property
    def page_size(self) -> int:  # read per request so deployments (and tests) can change it
        return settings.PHOTOS_PER_PAGE


def _photos():
    return Photo.objects.select_related("uploaded_by", "memorial").prefetch_related("tags")


def photo_for(request: Request, photo_id, action: Action) -> Photo:
    """The photo, if it exists, is not hidden and the policy allows `action` on it."""
    photo = _photos().filter(pk=photo_id, hidden=False).first()
    if photo is None:
        raise not_found_error("photo")
    permit(request, action, photo, thing="photo")
    if photo.is_ai_made and not policy.allows(request.user, Action.VIEW_AI_PHOTOS, photo):
        raise ApiError(gentle.seeing_refusal("photo"), 403)
    return photo


def _set_tags(photo: Photo, names: list[str]) -> None:
    names = clean_tags(names)
    for name in names:
        Tag.objects.get_or_create(memorial_id=photo.memorial_id, name=name)
    photo.tags.set(Tag.objects.filter(memorial_id=photo.memorial_id, name__in=names))


# --- Memorials


@extend_schema(tags=["memorials"])
class MemorialListView(MemorialAPIView, GenericAPIView):
    serializer_class = MemorialSerializer
    pagination_class = MemorialPagination
    parser_classes = [JSONParser]

    def get_queryset(self):
        return (
            policy.visible_memorials(self.request.user)
            .select_related("family")
            .order_by("name", "pk")
            .distinct()
        )

    @extend_schema(
        summary="Memorials the user may see",
        description="Members see their memorials; staff see every memorial (for review).",
        responses={200: MemorialSerializer(many=True), **errors(401, 404)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Create a memorial (the caller becomes its owner)",
        request=MemorialSerializer,
        responses={201: MemorialSerializer, **errors(400, 401, 403, *BODY)},
    )
    def post(self, request: Request) -> Response:
        permit(request, Action.CREATE_MEMORIAL)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = {k: v for k, v in serializer.validated_data.items() if k != "cover_photo_id"}
        memorial = create_memorial(request.user, **fields)
        data = self.get_serializer(memorial).data
        return Response(data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["memorials"])
class MemorialDetailView(MemorialAPIView):
    parser_classes = [JSONParser]

    @extend_schema(summary="One memorial", responses={200: MemorialSerializer, **errors(*READ)})
    def get(self, request: Request, memorial_id) -> Response:
        memorial = memorial_for(request, memorial_id, Action.VIEW_MEMORIAL)
        return Response(MemorialSerializer(memorial, context={"request": request}).data)

    @extend_schema(
        summary="Change a memorial's details or cover photo",
        request=MemorialSerializer,
        responses={200: MemorialSerializer, **errors(400, 401, 403, 404, *BODY)},
    )
    def patch(self, request: Request, memorial_id) -> Response:
        memorial = memorial_for(request, memorial_id, Action.CHANGE_MEMORIAL)
        if any(name in request.data for name in gentle.FEATURE_FIELDS.values()):
            permit(request, Action.MANAGE_AI_FEATURES, memorial)
        serializer = MemorialSerializer(
            memorial, data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)

    @extend_schema(
        summary="Request the deletion of a memorial, after the cooling-off period",
        description=(
            "The memorial becomes read-only and is deleted with all its photos, generated "
            "items, models, records and files at `delete_after` (settings: "
            "MEMORIAL_DELETION_COOLING_OFF_DAYS, 14 by default). Until then "
            "`POST /api/memorials/{memorial_id}/restore/` cancels it. A second request is a 409."
        ),
        request=None,
        responses={202: DeletionSerializer, **errors(401, 403, 404, 409)},
    )
    def delete(self, request: Request, memorial_id) -> Response:
        memorial = memorial_for(request, memorial_id, Action.DELETE_MEMORIAL)
        try:
            retire.request_deletion(memorial, request.user)
        except retire.RetireError as exc:
            raise ApiError(str(exc), 409) from None
        return Response(DeletionSerializer(memorial).data, status=status.HTTP_202_ACCEPTED)


# --- Members


@extend_schema(tags=["memorials"])
class ViewingView(MemorialAPIView):
    """The requesting member's gentle-viewing choice for one memorial (memorials/gentle.py)."""

    parser_classes = [JSONParser]

    def _answer(self, request: Request, memorial) -> Response:
        seen = gentle.viewing(request.user, memorial)
        choice = gentle.current_choice(request.user, memorial)
        return Response(
            ViewingSerializer(
                {
                    "choice": choice.value if choice else None,
                    "hidden_photos": seen.hidden_photos,
                    "hidden_videos": seen.hidden_videos,
                }
            ).data
        )

    @extend_schema(
        summary="What AI-made items you see in this memorial",
        description="`choice` is null until you choose; until then AI-made items are hidden.",
        responses={200: ViewingSerializer, **errors(401, 403, 404)},
    )
    def get(self, request: Request, memorial_id) -> Response:
        memorial = memorial_for(request, memorial_id, Action.CHOOSE_VIEWING)
        return self._answer(request, memorial)

    @extend_schema(
        summary="Choose what AI-made items you see in this memorial",
        description="`real`: only real photos; `photos`: and AI-made photos; `all`: and speaking "
        "and living portraits.",
        request=ViewingSerializer,
        responses={200: ViewingSerializer, **errors(400, 401, 403, 404, *BODY)},
    )
    def put(self, request: Request, memorial_id) -> Response:
        memorial = memorial_for(request, memorial_id, Action.CHOOSE_VIEWING)
        serializer = ViewingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        photos, videos = gentle.CHOICE_FLAGS[gentle.Choice(serializer.validated_data["choice"])]
        gentle.save_choice(request.user, memorial, photos, videos)
        return self._answer(request, memorial)


@extend_schema(tags=["members"])
class MemberListView(MemorialAPIView):
    @extend_schema(
        summary="Members of a memorial and their roles",
        responses={200: MemberSerializer(many=True), **errors(*READ)},
    )
    def get(self, request: Request, memorial_id) -> Response:
        memorial = memorial_for(request, memorial_id, Action.VIEW_MEMBERS)
        members = memorial.memberships.select_related("user").order_by("created_at", "pk")
        return Response(MemberSerializer(members, many=True).data)


@extend_schema(tags=["members"])
class MemberDetailView(MemorialAPIView):
    parser_classes = [JSONParser]

    def _membership(self, request: Request, memorial_id, user_id: int) -> Membership:
        memorial = memorial_for(request, memorial_id, Action.MANAGE_MEMBERS)
        check_id(user_id, "member")
        membership = (
            Membership.objects.select_related("user")
            .filter(memorial=memorial, user_id=user_id)
            .first()
        )
        if membership is None:
            raise not_found_error("member")
        return membership

    @extend_schema(
        summary="Change a member's role",
        description="A memorial always keeps at least one owner: demoting the last one is a 400.",
        request=MemberRoleSerializer,
        responses={200: MemberSerializer, **errors(400, 401, 403, 404, *BODY)},
    )
    def patch(self, request: Request, memorial_id, user_id: int) -> Response:
        membership = self._membership(request, memorial_id, user_id)
        serializer = MemberRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        role = serializer.validated_data.get("role", membership.role)
        try:
            if role != membership.role:
                change_role(membership, role)
        except LastOwnerError as exc:
            raise ApiError(str(exc), 400) from None
        return Response(MemberSerializer(membership).data)

    @extend_schema(
        summary="Remove a member",
        request=None,
        responses={204: OpenApiResponse(description="Removed."), **errors(400, 401, 403, 404)},
    )
    def delete(self, request: Request, memorial_id, user_id: int) -> Response:
        membership = self._membership(request, memorial_id, user_id)
        try:
            remove_member(membership)
        except LastOwnerError as exc:
            raise ApiError(str(exc), 400) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Photos


@extend_schema(tags=["photos"])
class PhotoListView(MemorialAPIView, GenericAPIView):
    serializer_class = PhotoSerializer
    pagination_class = PhotoPagination
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="A memorial's gallery, newest first",
        parameters=[PhotoFilterSerializer],
        responses={200: PhotoSerializer(many=True), **errors(400, 401, 404)},
    )
    def get(self, request: Request, memorial_id) -> Response:
        memorial = memorial_for(request, memorial_id, Action.VIEW_PHOTOS)
        filters = PhotoFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        photos = _photos().filter(memorial=memorial, hidden=False).order_by("-created_at", "pk")
        if tag := filters.validated_data.get("tag", "").strip():
            photos = photos.filter(tags__name=tag.lower())
        if kind := filters.validated_data.get("kind"):
            photos = photos.filter(kind=kind)
        if not policy.allows(request.user, Action.VIEW_AI_PHOTOS, memorial):
            photos = photos.filter(kind=PhotoKind.UPLOADED)  # the member chose only real photos
        page = self.paginate_queryset(photos)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Upload one photo",
        description=(
            "One file per request, checked by its content: JPEG, PNG, WebP, GIF (first frame), "
            "TIFF or HEIC. The stored copy is upright sRGB without metadata. `attested` must be "
            "true. A file already in the memorial is a 409 naming the `existing` photo."
        ),
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={
            201: PhotoSerializer,
            **errors(400, 401, 403, 404, 409, 503, *BODY, duplicate=True),
        },
    )
    def post(self, request: Request, memorial_id) -> Response:
        memorial = memorial_for(request, memorial_id, Action.UPLOAD_PHOTOS)
        if len(request.FILES.getlist("file")) > 1:
            raise ApiError(gettext("Send one photo per request."), 400)
        form = PhotoUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            photo = ingest_photo(
                memorial=memorial,
                uploaded=data["file"],
                user=request.user,
                attested=data["attested"],
                caption=data.get("caption", ""),
                taken_on=data.get("taken_on"),
                place=data.get("place", ""),
                tags=data.get("tags", "").split(","),
            )
        except UploadRejected as exc:
            extra = {"existing": str(exc.existing.pk)} if exc.existing is not None else {}
            raise ApiError(exc.message, exc.status, **extra) from None
        except OSError:
            # Storage trouble (disk full, S3 away): ingest removed what it wrote; say so.
            log.exception("storing an upload to memorial %s failed", memorial.pk)
            raise ApiError(
                gettext("The photo could not be saved just now. Please try again."), 503
            ) from None
        photo = _photos().get(pk=photo.pk)
        return Response(
            self.get_serializer(photo).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": photo.get_absolute_url()},
        )


@extend_schema(tags=["photos"])
class PhotoDetailView(MemorialAPIView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="One photo",
        description="403 with the reason for an AI-made photo to a member who chose only real "
        "photos.",
        responses={200: PhotoSerializer, **errors(401, 403, 404)},
    )
    def get(self, request: Request, photo_id) -> Response:
        photo = photo_for(request, photo_id, Action.VIEW_PHOTOS)
        return Response(PhotoSerializer(photo, context={"request": request}).data)

    @extend_schema(
        summary="Change a photo's caption, date, place or tags",
        request=PhotoUpdateSerializer,
        responses={200: PhotoSerializer, **errors(400, 401, 403, 404, *BODY)},
    )
    def patch(self, request: Request, photo_id) -> Response:
        photo = photo_for(request, photo_id, Action.EDIT_PHOTO)
        form = PhotoUpdateSerializer(photo, data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        tags = data.pop("tags", None)
        with transaction.atomic():
            for field, value in data.items():
                setattr(photo, field, value.strip() if isinstance(value, str) else value)
            photo.save(update_fields=[*data, "updated_at"])
            if tags is not None:
                _set_tags(photo, tags)
        memorial_id, photo_pk = photo.memorial_id, str(photo.pk)
        transaction.on_commit(
            lambda: events.publish(memorial_id, "photo.updated", photo_id=photo_pk)
        )
        photo = _photos().get(pk=photo.pk)
        return Response(PhotoSerializer(photo, context={"request": request}).data)

    @extend_schema(
        summary="Delete a photo",
        request=None,
        responses={204: OpenApiResponse(description="Deleted."), **errors(401, 403, 404)},
    )
    def delete(self, request: Request, photo_id) -> Response:
        photo = photo_for(request, photo_id, Action.DELETE_PHOTO)
        memorial_id, photo_pk = photo.memorial_id, str(photo.pk)
        with transaction.atomic():
            photo.delete()  # files are removed after commit (memorials.signals)
            transaction.on_commit(
                lambda: events.publish(memorial_id, "photo.deleted", photo_id=photo_pk)
            )
        return Response(status=status.HTTP_204_NO_CONTENT)
