"""JSON endpoints for videos: list a memorial's videos, read one, start a talking portrait (a
photo + a voice recording), a living portrait (a photo alone) or a film (a trained model); list, read and delete voice recordings. Access: memorial.policy only; starting
also passes the consent gate and the input checks (4xx with a sentence; nothing stored)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from memorial import policy
from memorial.core.api import BODY, ApiError, JSONParser, MemorialAPIView, errors, memorial_for
from memorial.jobs.models import ModelVersion
from memorial.jobs.serializers import JobSerializer
from memorial.memorials import gentle
from memorial.memorials.api import MemorialPagination
from memorial.memorials.models import Photo
from memorial.policy import Action
from memorial.videos import services
from memorial.videos.models import Video, VoiceRecording
from memorial.videos.serializers import (
    FilmRequestSerializer,
    LiveRequestSerializer,
    RecordingSerializer,
    SpeakRequestSerializer,
    VideoSerializer,
)

NO_VIDEO = _("This video does not exist, or you do not have access to it.")
NO_PHOTO = _("This photo does not exist, or you do not have access to it.")
NO_MODEL = _("This trained model does not exist, or you do not have access to it.")
DENIED = _("Your role in this memorial does not allow starting generation.")
NO_RECORDING = _("This voice recording does not exist, or you do not have access to it.")
NOT_YOURS = _("You may not delete this voice recording.")


def _visible(request: Request, obj, missing, action: Action):
    """``obj`` if the user may see its memorial (else 404) and do ``action`` (else 403)."""
    if obj is None or not policy.can_see(request.user, obj.memorial):
        raise exceptions.NotFound(missing)
    if not policy.allows(request.user, action, obj):
        raise exceptions.PermissionDenied(DENIED)
    return obj


def _refused(refused: services.Refused) -> ApiError:
    return ApiError(refused.message, refused.status)


@extend_schema(tags=["videos"])
class VideoListView(MemorialAPIView, GenericAPIView):
    serializer_class = VideoSerializer
    pagination_class = MemorialPagination

    @extend_schema(
        summary="The memorial's videos (all AI-generated), newest first",
        responses={200: VideoSerializer(many=True), **errors(401, 404)},
    )
    def get(self, request: Request, memorial_id) -> Response:
        memorial = memorial_for(request, memorial_id, Action.VIEW_PHOTOS)
        videos = Video.objects.filter(memorial=memorial, hidden=False).order_by("-created_at", "pk")
        if not policy.allows(request.user, Action.VIEW_AI_VIDEOS, memorial):
            videos = videos.none()  # the member chose not to see portraits (gentle viewing)
        page = self.paginate_queryset(videos)
        return self.get_paginated_response(VideoSerializer(page, many=True).data)


@extend_schema(tags=["videos"])
class VideoDetailView(MemorialAPIView):
    @extend_schema(
        summary="One video",
        description="403 with the reason for a member who chose not to see portraits.",
        responses={200: VideoSerializer, **errors(401, 403, 404)},
    )
    def get(self, request: Request, video_id) -> Response:
        video = Video.objects.select_related("memorial").filter(pk=video_id, hidden=False).first()
        if video is None or not policy.allows(request.user, Action.VIEW_PHOTOS, video):
            raise exceptions.NotFound(NO_VIDEO)
        if not policy.allows(request.user, Action.VIEW_AI_VIDEOS, video):
            raise exceptions.PermissionDenied(gentle.seeing_refusal("video"))
        return Response(VideoSerializer(video).data)


@extend_schema(tags=["videos"])
class SpeakView(MemorialAPIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Make the photo speak a voice recording (a talking-portrait job)",
        description="Send `audio` (a file) or `recording` (a stored one). Refused with 403 and "
        "the consent gate's reason unless consent covers generated videos and the voice; with "
        "400/413/415 and the reason when the recording is not audio, empty or longer than the "
        "limit, no speech in it (silence, noise or music), or the photo has no usable face (none, "
        "too small, a profile, the mouth hidden). Nothing is stored "
        "then. Answers the queued job; its `result.video` names the video when it is done.",
        request={"multipart/form-data": SpeakRequestSerializer},
        responses={201: JobSerializer, **errors(400, 401, 403, 404, *BODY)},
    )
    def post(self, request: Request, photo_id) -> Response:
        photo = Photo.objects.select_related("memorial").filter(pk=photo_id, hidden=False).first()
        photo = _visible(request, photo, NO_PHOTO, Action.START_GENERATION)
        form = SpeakRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            job = services.start_speak(
                photo,
                request.user,
                uploaded=data.get("audio"),
                recording_id=data.get("recording"),
                face_index=data["face"],
                seed=data["seed"],
            )
        except services.Refused as refused:
            raise _refused(refused) from None
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["videos"])
class LiveView(MemorialAPIView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Bring the photo to life without a recording (a living-portrait job)",
        description="Six silent seconds of the person at rest: blinks, a glance aside, a smile. "
        "Refused with 403 and the consent gate's reason unless consent covers generated videos "
        "(no voice is used); with 400 and the reason when the photo has no usable face. Answers "
        "the queued job; its `result.video` names the video when it is done.",
        request=LiveRequestSerializer,
        responses={201: JobSerializer, **errors(400, 401, 403, 404, *BODY)},
    )
    def post(self, request: Request, photo_id) -> Response:
        photo = Photo.objects.select_related("memorial").filter(pk=photo_id, hidden=False).first()
        photo = _visible(request, photo, NO_PHOTO, Action.START_GENERATION)
        form = LiveRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            job = services.start_live(
                photo, request.user, face_index=data["face"], seed=data["seed"]
            )
        except services.Refused as refused:
            raise _refused(refused) from None
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["videos"])
class FilmView(MemorialAPIView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Make a latent-walk film from a trained model",
        description="Keyframes from `seeds` or `captions` (one each, not both). Refused with 403 "
        "and the consent gate's reason unless consent covers generated videos (and the voice, "
        "with a `recording`). A model whose evaluation says it has not learned the face is "
        "refused with 400 and the reason unless `confirm_unlearned` is true.",
        request=FilmRequestSerializer,
        responses={201: JobSerializer, **errors(400, 401, 403, 404, *BODY)},
    )
    def post(self, request: Request, model_id) -> Response:
        model = ModelVersion.objects.select_related("memorial").filter(pk=model_id).first()
        model = _visible(request, model, NO_MODEL, Action.START_GENERATION)
        form = FilmRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            job = services.start_film(
                model,
                request.user,
                seeds=data["seeds"],
                captions=data["captions"],
                seconds=data["seconds"],
                fps=int(data["fps"]),
                recording_id=data.get("recording"),
                start_photo=data.get("start_photo"),
                end_photo=data.get("end_photo"),
                confirm_unlearned=data["confirm_unlearned"],
            )
        except services.Refused as refused:
            raise _refused(refused) from None
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)


def _recording(request: Request, recording_id) -> VoiceRecording:
    """The recording if the user may see its memorial's media, else 404."""
    recording = VoiceRecording.objects.select_related("memorial").filter(pk=recording_id).first()
    if recording is None or not policy.allows(request.user, Action.VIEW_PHOTOS, recording):
        raise exceptions.NotFound(NO_RECORDING)
    return recording


@extend_schema(tags=["videos"])
class RecordingListView(MemorialAPIView, GenericAPIView):
    serializer_class = RecordingSerializer
    pagination_class = MemorialPagination

    @extend_schema(
        summary="The memorial's stored voice recordings, newest first",
        responses={200: RecordingSerializer(many=True), **errors(401, 404)},
    )
    def get(self, request: Request, memorial_id) -> Response:
        memorial = memorial_for(request, memorial_id, Action.VIEW_PHOTOS)
        page = self.paginate_queryset(
            VoiceRecording.objects.filter(memorial=memorial).order_by("-created_at", "pk")
        )
        return self.get_paginated_response(RecordingSerializer(page, many=True).data)


@extend_schema(tags=["videos"])
class RecordingDetailView(MemorialAPIView):
    @extend_schema(
        summary="One voice recording", responses={200: RecordingSerializer, **errors(401, 404)}
    )
    def get(self, request: Request, recording_id) -> Response:
        return Response(RecordingSerializer(_recording(request, recording_id)).data)

    @extend_schema(
        summary="Delete a voice recording and the videos that speak it",
        description="Its uploader or an owner. The file goes from storage too. 409 while a video "
        "that uses the recording is still being made.",
        request=None,
        responses={204: OpenApiResponse(description="Deleted."), **errors(401, 403, 404, 409, 503)},
    )
    def delete(self, request: Request, recording_id) -> Response:
        recording = _recording(request, recording_id)
        if not policy.allows(request.user, Action.DELETE_RECORDING, recording):
            reason = policy.read_only_reason(Action.DELETE_RECORDING, recording)
            raise exceptions.PermissionDenied(reason or NOT_YOURS)
        try:
            services.delete_recording(recording)
        except services.Refused as refused:
            raise _refused(refused) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
